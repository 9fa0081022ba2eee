// Devices page: a searchable, paginated list (the server filters and cuts
// pages, so 10,000 devices cost the browser one page of rows), with the
// latest values and a 15-minute sparkline per device.
'use strict';
(function () {
  const { el, num } = B;
  const PAGE = 50;

  function sparkline(canvas, values) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 120, h = canvas.clientHeight || 28;
    canvas.width = w * dpr; canvas.height = h * dpr;
    const ctx = canvas.getContext('2d');
    ctx.scale(dpr, dpr);
    ctx.clearRect(0, 0, w, h);
    const pts = values.filter(v => Number.isFinite(v[1]));
    canvas.dataset.points = String(pts.length);
    if (pts.length < 2) return;
    const t0 = pts[0][0], t1 = pts[pts.length - 1][0];
    let lo = Math.min(...pts.map(p => p[1])), hi = Math.max(...pts.map(p => p[1]));
    if (hi === lo) { hi += 1; lo -= 1; }
    ctx.strokeStyle = getComputedStyle(document.body).getPropertyValue('--accent') || '#2563eb';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    pts.forEach(([t, v], i) => {
      const x = (t - t0) / Math.max(t1 - t0, 1) * (w - 2) + 1, y = h - 2 - (v - lo) / (hi - lo) * (h - 4);
      if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
    });
    ctx.stroke();
  }

  function row(d) {
    const names = Object.keys(d.metrics).sort();
    const vals = el('td', { class: 'vals' }, names.map(n =>
      el('span', { title: n + ' at ' + d.metrics[n].timestamp }, el('span', { class: 'muted' }, n + ' '), num(d.metrics[n].value))));
    const canvas = el('canvas', { class: 'spark', 'data-device': d.device_id, 'data-metric': names[0] || '' });
    return el('tr', { 'data-device': d.device_id },
      el('td', {}, el('a', { href: '#/device/' + encodeURIComponent(d.device_id) }, d.device_id)),
      el('td', { class: 'hide-sm' }, d.device_type || ''),
      el('td', { class: 'last-seen', 'data-t': d.last_seen }, B.ago(d.last_seen)),
      vals, el('td', { class: 'hide-sm' }, canvas));
  }

  // fetchSparks reads the last 15 minutes of every series of the devices
  // in one query, keyed by device and metric.
  async function fetchSparks(devices) {
    const series = new Map();
    if (!devices.length) return series;
    const ids = devices.map(d => B.reEscape(d.device_id)).join('|');
    const end = Date.now() / 1000;
    const res = await B.queryRange(`{device_id=~"${ids}"}`, end - 900, end, 15);
    for (const s of res.result || []) {
      const k = s.metric.device_id + '\u0000' + s.metric.__name__;
      const vs = s.values.map(([t, v]) => [t, parseFloat(v)]);
      series.set(k, (series.get(k) || []).concat(vs).sort((a, b) => a[0] - b[0]));
    }
    return series;
  }
  function drawSparks(tbody, series) {
    for (const c of tbody.querySelectorAll('canvas.spark')) {
      sparkline(c, series.get(c.dataset.device + '\u0000' + c.dataset.metric) || []);
    }
  }

  B.pages.devices = function (root) {
    const st = { q: '', sort: 'id', offset: 0, samples: -1 };
    const search = el('input', { type: 'search', id: 'device-search', placeholder: 'search id, type, label, metric', size: 32 });
    const sort = el('select', { id: 'device-sort' }, el('option', { value: 'id' }, 'by id'), el('option', { value: 'last_seen' }, 'newest first'));
    const info = el('span', { class: 'muted', id: 'device-count' });
    const prev = el('button', { id: 'device-prev' }, '‹ prev'), next = el('button', { id: 'device-next' }, 'next ›');
    const tbody = el('tbody', { id: 'device-rows' });
    root.replaceChildren(el('h2', {}, 'Devices'), el('div', { class: 'toolbar' }, search, sort, prev, next, info),
      el('table', { id: 'devices' }, el('thead', {}, el('tr', {}, el('th', {}, 'device'), el('th', { class: 'hide-sm' }, 'type'),
        el('th', {}, 'last seen'), el('th', {}, 'latest values'), el('th', { class: 'hide-sm' }, 'last 15 min'))), tbody));

    let current = [], cache = { ids: '', series: new Map() };
    const loadSparks = B.single(() => B.guard('sparklines', async () => {
      if (st.left) return;
      const ids = current.map(d => d.device_id).join('\u0000');
      const series = await fetchSparks(current);
      cache = { ids, series };
      drawSparks(tbody, series);
    }));
    const slowSparks = B.throttle(loadSparks, 30000); // 15-minute lines: refreshed at most every 30 s
    function sparks() {
      drawSparks(tbody, cache.series);
      if (cache.ids !== current.map(d => d.device_id).join('\u0000')) loadSparks(); else slowSparks();
    }
    let seq = 0; // only the newest request renders (user actions do not wait for the throttle)
    async function load() {
      if (st.left) return; // a refresh due after the page was left
      const my = ++seq;
      st.samples = (await B.ensureOverview()).changes.samples; // the list shows at least this
      const p = new URLSearchParams({ q: st.q, sort: st.sort, offset: st.offset, limit: PAGE });
      const page = await B.api('/api/v1/dashboard/devices?' + p);
      if (my !== seq) return;
      current = page.devices;
      tbody.replaceChildren(...(current.length ? current.map(row)
        : [el('tr', {}, el('td', { colspan: 5, class: 'muted' }, page.total ? 'no device matches' : 'no devices yet'))]));
      const to = page.offset + current.length;
      info.textContent = `${current.length ? page.offset + 1 : 0}–${to} of ${page.matched}` +
        (page.matched !== page.total ? ` (${page.total} devices)` : '');
      prev.disabled = page.offset === 0; next.disabled = to >= page.matched;
      sparks();
    }
    const now = B.single(() => B.guard('devices', load));
    // New data: the first change reloads at once, a steady stream of
    // readings at most every 2 s (30 requests a minute, a third of the
    // default http.guard.rate_limit).
    const refresh = B.throttle(now, 2000);
    let debounce = null;
    search.addEventListener('input', () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => { st.q = search.value; st.offset = 0; now(); }, 250);
    });
    sort.addEventListener('change', () => { st.sort = sort.value; st.offset = 0; now(); });
    prev.addEventListener('click', () => { st.offset = Math.max(0, st.offset - PAGE); now(); });
    next.addEventListener('click', () => { st.offset += PAGE; now(); });
    now();
    const off = B.onOverview(o => {
      if (st.samples >= 0 && o.changes.samples !== st.samples) { st.samples = o.changes.samples; refresh(); }
    });
    const ticker = setInterval(() => tbody.querySelectorAll('td.last-seen').forEach(td => { td.textContent = B.ago(td.dataset.t); }), 1000);
    return () => { st.left = true; off(); clearInterval(ticker); clearTimeout(debounce); };
  };
})();
