// Device page: one chart per metric over a selectable range, from the
// store's Prometheus query API (/api/v1/query_range).
'use strict';
(function () {
  const { el, num } = B;
  const RANGES = [['15m', 900], ['1h', 3600], ['6h', 21600], ['24h', 86400], ['7d', 604800]];
  const POINTS = 240; // samples per series whatever the range

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
      width: Math.max(box.clientWidth - 16, 280), height: 220,
      series: [{}, ...result.map((s, i) => ({ label: seriesName(s.metric, name), stroke: colors[i % colors.length], width: 1.5,
        points: { show: points < 60 }, value: (u, v) => v === null ? '–' : num(v) }))],
      scales: { x: { time: true, range: () => [start, end] } },
      axes: [{}, { size: 60 }],
    };
    plots.push(new uPlot(opts, data, box));
  }

  B.pages.device = function (root, id) {
    const st = { range: 900, samples: -1, loadedAt: 0 };
    const plots = [];
    const head = el('div', {}, el('h2', {}, 'Device ', el('span', { id: 'device-id' }, id)));
    const buttons = RANGES.map(([label, secs]) => el('button', { 'data-range': label, class: secs === st.range ? 'on' : '',
      onclick: () => { st.range = secs; buttons.forEach(b => b.classList.toggle('on', b.dataset.range === label)); refresh(); } }, label));
    const charts = el('div', { id: 'charts' });
    root.replaceChildren(head, el('div', { class: 'toolbar' }, el('a', { href: '#/devices' }, '‹ devices'), ...buttons), charts);

    async function load() {
      const page = await B.api('/api/v1/dashboard/devices?' + new URLSearchParams({ id, limit: 1 }));
      const d = page.devices[0];
      if (!d) throw new Error(`device ${id} is not known (no readings stored)`);
      head.replaceChildren(el('h2', {}, 'Device ', el('span', { id: 'device-id' }, id)),
        el('p', { class: 'muted' }, [d.device_type, ...Object.entries(d.labels || {}).map(([k, v]) => `${k}=${v}`)]
          .filter(Boolean).join(' · ') + ' · last seen ' + B.ago(d.last_seen)));
      const end = Date.now() / 1000, start = end - st.range, step = Math.max(Math.ceil(st.range / POINTS), 1);
      const names = Object.keys(d.metrics).sort();
      // Past a minute per point, average each step's readings instead of
      // sampling one (a sample every few minutes would miss most of them).
      const query = n => {
        const sel = `${n}{device_id="${B.strEscape(id)}"}`;
        return step > 60 ? `avg_over_time(${sel}[${step}s])` : sel;
      };
      const results = await Promise.all(names.map(n => B.queryRange(query(n), start, end, step)));
      plots.splice(0).forEach(p => p.destroy());
      charts.replaceChildren();
      if (!names.length) charts.append(el('p', { class: 'muted' }, 'no metrics'));
      names.forEach((n, i) => {
        const box = el('div', { class: 'chart', 'data-metric': n });
        charts.append(box);
        drawChart(box, n, results[i].result || [], plots, start, end);
      });
      st.loadedAt = Date.now();
    }
    const refresh = B.throttle(() => B.guard('device', load), 2000);
    refresh();
    const off = B.onOverview(o => {
      // Short ranges follow new readings; long ones refresh at most every 30 s.
      if (o.changes.samples === st.samples) return;
      st.samples = o.changes.samples;
      if (st.range <= 3600 || Date.now() - st.loadedAt > 30000) refresh();
    });
    return () => { off(); plots.forEach(p => p.destroy()); };
  };
})();
