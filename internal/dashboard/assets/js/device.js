// Device page: one chart per metric over a selectable range, from the
// store's Prometheus query API (/api/v1/query_range).
'use strict';
(function () {
  const { el, num } = B;
  const RANGES = [['15m', 900], ['1h', 3600], ['6h', 21600], ['24h', 86400], ['7d', 604800]];
  const POINTS = 240; // samples per series whatever the range
  // Request budget: ranges up to an hour follow new readings with one
  // request at most every 3 s (20 a minute); longer ones refresh at most
  // every minute (one request per metric). The device's details are
  // re-read at most every 30 s.
  const FOLLOW = 3000, SLOW = 60000, INFO = 30000;

  function seriesName(m, name) {
    const extra = Object.entries(m).filter(([k]) => !['__name__', 'device_id', 'device_type'].includes(k))
      .map(([k, v]) => `${k}=${v}`).join(', ');
    return extra ? `${name} {${extra}}` : name;
  }

  // chartData aligns the series of one metric on shared timestamps.
  function chartData(result) {
    const ts = new Set();
    for (const s of result) for (const [t] of s.values) ts.add(t);
    const xs = [...ts].sort((a, b) => a - b);
    const idx = new Map(xs.map((t, i) => [t, i]));
    const ys = result.map(s => {
      const y = new Array(xs.length).fill(null);
      for (const [t, v] of s.values) { const f = parseFloat(v); y[idx.get(t)] = Number.isFinite(f) ? f : null; }
      return y;
    });
    return [xs, ...ys];
  }

  function drawChart(box, name, result, plots, start, end) {
    const data = chartData(result);
    const points = data.slice(1).reduce((n, y) => n + y.filter(v => v !== null).length, 0);
    box.dataset.points = String(points);
    box.replaceChildren(el('h3', {}, name, ' ', el('span', { class: 'muted' }, `(${points} points)`)));
    if (!points) { box.append(el('p', { class: 'muted' }, 'no data in this range')); return; }
    const colors = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2'];
    const opts = {
      width: Math.max(box.clientWidth - 16, 240), height: 220,
      series: [{}, ...result.map((s, i) => ({ label: seriesName(s.metric, name), stroke: colors[i % colors.length], width: 1.5,
        points: { show: points < 60 }, value: (u, v) => v === null ? '–' : num(v) }))],
      scales: { x: { time: true, range: () => [start, end] } },
      axes: [{}, { size: 60 }],
    };
    plots.push(new uPlot(opts, data, box));
  }

  // fetchSeries returns the device's series by metric name. Up to a minute
  // per point, one query returns every metric's samples; past it, each
  // step's readings are averaged (a sample every few minutes would miss
  // most of them), one query per metric since averaging drops the name.
  async function fetchSeries(id, names, start, end, step) {
    const sel = `device_id="${B.strEscape(id)}"`;
    const byName = new Map(names.map(n => [n, []]));
    if (step <= 60) {
      const res = await B.queryRange(`{${sel}}`, start, end, step);
      for (const s of res.result || []) {
        const n = s.metric.__name__;
        if (!byName.has(n)) byName.set(n, []);
        byName.get(n).push(s);
      }
      return byName;
    }
    const results = await Promise.all(names.map(n => B.queryRange(`avg_over_time(${n}{${sel}}[${step}s])`, start, end, step)));
    names.forEach((n, i) => byName.set(n, (results[i].result || []).map(s => ({ ...s, metric: { ...s.metric, __name__: n } }))));
    return byName;
  }

  B.pages.device = function (root, id) {
    const st = { range: 900, samples: -1, info: null, infoAt: 0 };
    const plots = [];
    const head = el('div', {}, el('h2', {}, 'Device ', el('span', { id: 'device-id' }, id)));
    const buttons = RANGES.map(([label, secs]) => el('button', { 'data-range': label, class: secs === st.range ? 'on' : '',
      onclick: () => { st.range = secs; buttons.forEach(b => b.classList.toggle('on', b.dataset.range === label)); now(); } }, label));
    const charts = el('div', { id: 'charts' });
    root.replaceChildren(head, el('div', { class: 'toolbar' }, el('a', { href: '#/devices' }, '‹ devices'), ...buttons), charts);

    async function loadInfo() {
      const page = await B.api('/api/v1/dashboard/devices?' + new URLSearchParams({ id, limit: 1 }));
      const d = page.devices[0];
      if (!d) throw new Error(`device ${id} is not known (no readings stored)`);
      st.info = d; st.infoAt = Date.now();
      head.replaceChildren(el('h2', {}, 'Device ', el('span', { id: 'device-id' }, id)),
        el('p', { class: 'muted' }, [d.device_type, ...Object.entries(d.labels || {}).map(([k, v]) => `${k}=${v}`)]
          .filter(Boolean).join(' · ') + ' · last seen ' + B.ago(d.last_seen)));
    }
    async function load() {
      if (st.left) return;
      st.samples = (await B.ensureOverview()).changes.samples; // the charts show at least this
      if (!st.info || Date.now() - st.infoAt > INFO) await loadInfo();
      const end = Date.now() / 1000, start = end - st.range, step = Math.max(Math.ceil(st.range / POINTS), 1);
      const series = await fetchSeries(id, Object.keys(st.info.metrics), start, end, step);
      plots.splice(0).forEach(p => p.destroy());
      charts.replaceChildren();
      const names = [...series.keys()].sort();
      if (!names.length) charts.append(el('p', { class: 'muted' }, 'no metrics'));
      for (const n of names) {
        const box = el('div', { class: 'chart', 'data-metric': n });
        charts.append(box);
        drawChart(box, n, series.get(n), plots, start, end);
      }
      st.loadedAt = Date.now();
    }
    const now = B.single(() => B.guard('device', load));
    const follow = B.throttle(now, FOLLOW), slow = B.throttle(now, SLOW);
    now();
    const off = B.onOverview(o => {
      if (st.samples < 0 || o.changes.samples === st.samples) return;
      st.samples = o.changes.samples;
      (st.range <= 3600 ? follow : slow)();
    });
    return () => { st.left = true; off(); plots.forEach(p => p.destroy()); };
  };
})();
