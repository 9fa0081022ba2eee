// Alerts page: alerts firing now and the history, filtered by type,
// severity and device (GET /api/v1/alerts), refreshed when alert events
// happen.
'use strict';
(function () {
  const { el, num } = B;

  // when is the time of day for today's alerts, else date and time.
  function when(ts) {
    const d = new Date(ts);
    return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
  }

  // On a phone the state column is hidden; firing rows keep a red edge.
  function table(id, alerts, empty) {
    const rows = alerts.map(a => el('tr', { 'data-alert': a.id, class: a.state === 'firing' ? 'firing' : '' },
      el('td', { title: a.timestamp }, when(a.timestamp)),
      el('td', { class: 'hide-sm' }, el('span', { class: 'badge ' + (a.state === 'firing' ? 'bad' : 'ok') }, a.state)),
      el('td', { class: 'sev-' + (a.severity || '').toLowerCase() }, a.severity),
      el('td', { class: 'wrap' }, a.type),
      el('td', {}, a.device_id ? el('a', { href: '#/device/' + encodeURIComponent(a.device_id) }, a.device_id) : '–'),
      el('td', { class: 'num' }, a.value === null ? '–' : num(a.value)),
      el('td', { class: 'hide-sm' }, a.message || a.rule)));
    return el('table', { id }, el('thead', {}, el('tr', {}, ['time', 'state', 'severity', 'type', 'device', 'value', 'message']
      .map((h, i) => el('th', { class: i === 6 || i === 1 ? 'hide-sm' : '' }, h)))),
    el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: 7, class: 'muted' }, empty))));
  }

  function options(list, values) {
    const cur = new Set([...list.options].map(o => o.value));
    for (const v of [...values].sort()) if (v && !cur.has(v)) list.append(el('option', { value: v }));
  }

  B.pages.alerts = function (root) {
    const st = { events: -1 };
    const lists = { type: el('datalist', { id: 'alert-types' }), severity: el('datalist', { id: 'alert-sevs' }), device: el('datalist', { id: 'alert-devs' }) };
    const f = {
      type: el('input', { id: 'alert-type', list: 'alert-types', placeholder: 'type', size: 16 }),
      severity: el('input', { id: 'alert-severity', list: 'alert-sevs', placeholder: 'severity', size: 10 }),
      device_id: el('input', { id: 'alert-device', list: 'alert-devs', placeholder: 'device', size: 14 }),
    };
    const firing = el('div', { id: 'alerts-firing' }), history = el('div', { id: 'alerts-history' });
    root.replaceChildren(el('h2', {}, 'Alerts'), el('div', { class: 'toolbar' }, f.type, f.severity, f.device_id,
      el('button', { id: 'alert-clear', onclick: () => { Object.values(f).forEach(i => { i.value = ''; }); now(); } }, 'clear'),
      lists.type, lists.severity, lists.device),
    el('h3', {}, 'Firing now'), firing, el('h3', {}, 'History'), history);

    let seq = 0; // only the newest request renders (typing does not wait for slower answers)
    async function load() {
      if (st.left) return; // a refresh due after the page was left
      const my = ++seq;
      st.events = (await B.ensureOverview()).alerts.events_total; // the tables show at least this
      const p = new URLSearchParams();
      for (const [k, i] of Object.entries(f)) if (i.value.trim()) p.set(k, i.value.trim());
      const active = new URLSearchParams(p); active.set('state', 'active'); active.set('limit', '500');
      p.set('limit', '200');
      const [firingNow, all] = await Promise.all([B.api('/api/v1/alerts?' + active), B.api('/api/v1/alerts?' + p)]);
      if (my !== seq) return;
      history.dataset.filter = p.toString(); // what the tables show (tests wait for it)
      firing.replaceChildren(table('alerts-firing-table', firingNow, 'nothing is firing'));
      history.replaceChildren(table('alerts-history-table', all, 'no alerts recorded'));
      options(lists.type, all.map(a => a.type)); options(lists.severity, all.map(a => a.severity));
      options(lists.device, all.map(a => a.device_id));
    }
    const now = B.single(() => B.guard('alerts', load));
    // Alert events: the first reloads at once, a storm at most every 4 s
    // (two requests each: 30 a minute).
    const refresh = B.throttle(now, 4000);
    let debounce = null;
    Object.values(f).forEach(i => i.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(now, 300); }));
    now();
    const off = B.onOverview(o => {
      if (st.events >= 0 && o.alerts.events_total !== st.events) { st.events = o.alerts.events_total; refresh(); }
    });
    return () => { st.left = true; off(); clearTimeout(debounce); };
  };
})();
