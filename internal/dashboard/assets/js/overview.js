// Overview page: the node at a glance, updated from the live stream.
'use strict';
(function () {
  const { el, num, pct, bytes, dur } = B;

  function card(title, rows, extra) {
    return el('div', { class: 'card' }, el('h3', {}, title),
      el('dl', { class: 'kv' }, rows.flatMap(([k, v, cls]) => [el('dt', {}, k), el('dd', { class: cls || '' }, v)])),
      extra || null);
  }
  const yes = (b, y, n) => [b ? y : n, b ? 'ok' : 'bad'];

  function uplinkCard(o) {
    if (!o.uplink) return card('Uplink', [['status', 'off (no uplink outputs)', 'muted']]);
    return card('Uplink', o.uplink.flatMap(u => {
      const [s, cls] = yes(u.connected, 'connected', 'offline');
      return [[u.name, s, cls], ['  backlog', num(u.backlog_entries, 0) + ' (' + bytes(u.backlog_bytes) + ')'],
        ['  oldest', u.backlog_entries ? dur(u.oldest_age_seconds) : '–']];
    }));
  }
  function linksCard(o) {
    if (!o.links) return card('Links', [['status', 'off (netmon disabled)', 'muted']]);
    const rows = [['online', ...yes(o.online > 0, 'yes', 'no')]];
    for (const l of o.links) {
      const [s, cls] = yes(l.up && l.reachable, (l.active ? 'active, ' : '') + 'up', l.up ? 'unreachable' : 'down');
      rows.push([l.name, s, cls], ['  latency', num(l.latency_avg_seconds * 1000, 1) + ' ms, loss ' + pct(l.loss_ratio)]);
    }
    return card('Links', rows);
  }
  function resourcesCard(o) {
    const r = o.resources;
    const lvl = v => v === null ? 'muted' : v > 0.9 ? 'bad' : v > 0.75 ? 'warn' : '';
    return card('Resources', [['CPU', pct(r.cpu_ratio), lvl(r.cpu_ratio)], ['memory', pct(r.memory_ratio), lvl(r.memory_ratio)],
      ['disk', pct(r.disk_ratio), lvl(r.disk_ratio)], ['borda RSS', bytes(r.process_rss_bytes)], ['goroutines', num(r.goroutines, 0)]]);
  }

  function render(root, o) {
    document.getElementById('node').textContent = o.node + (o.site ? ' @ ' + o.site : '') + ' · ' + o.version;
    const labels = Object.entries(o.labels || {}).map(([k, v]) => k + '=' + v).join(', ');
    const b = o.broker, i = o.ingest;
    root.replaceChildren(el('h2', {}, 'Overview'), el('div', { class: 'cards', id: 'overview-cards' },
      card('Node', [['name', o.node], ...(o.site ? [['site', o.site]] : []), ...(labels ? [['labels', labels]] : []),
        ['version', o.version], ['uptime', dur((Date.now() - new Date(o.started)) / 1000)], ['devices', num(o.devices, 0)]]),
      card('Broker', [['clients', num(b.clients, 0)], ['subscriptions', num(b.subscriptions, 0)],
        ['messages in', num(b.received_per_second) + ' /s'], ['messages out', num(b.sent_per_second) + ' /s'],
        ['retained', num(b.retained, 0)], ['dropped', num(b.dropped_total, 0), b.dropped_total ? 'warn' : '']]),
      card('Ingest', [['readings', num(i.points_per_second) + ' /s'], ['messages', num(i.messages_per_second) + ' /s'],
        ['queue', num(i.queue_length, 0)], ['rejected', num(i.rejected_total, 0), i.rejected_total ? 'warn' : ''],
        ['dropped', num(i.dropped_total, 0), i.dropped_total ? 'bad' : '']]),
      card('Alerts', [['firing', num(o.alerts.firing, 0), o.alerts.firing ? 'bad' : 'ok'], ['events', num(o.alerts.events_total, 0)]],
        el('a', { href: '#/alerts' }, 'see alerts')),
      uplinkCard(o), linksCard(o), resourcesCard(o),
      visionCard(o)));
  }
  function visionCard(o) {
    const v = o.vision, link = el('a', { href: '#/cameras' }, 'see cameras');
    if (!v) return card('Vision', [['status', 'vision off', 'muted']], link);
    if (!v.up) return card('Vision', [['status', 'not running', 'bad']], el('div', {}, el('p', { class: 'bad', id: 'vision-error' }, v.error), link));
    const cams = o.cameras || [], down = cams.filter(c => !c.source_up).length;
    return card('Vision', [['status', 'on', 'ok'], ['cameras', num(cams.length, 0) + (down ? ` (${down} down)` : ''), down ? 'bad' : ''],
      ['fps processed', num(cams.reduce((n, c) => n + c.fps_processed, 0), 1)]], link);
  }

  B.pages.overview = function (root) {
    root.replaceChildren(el('h2', {}, 'Overview'), el('p', { class: 'muted' }, 'loading…'));
    let left = false; // a draw due after the page was left must not paint over the next page
    const draw = B.throttle(() => !left && B.overview && render(root, B.overview), 500);
    B.guard('overview', async () => { await B.ensureOverview(); draw(); });
    const off = B.onOverview(draw);
    const timer = setInterval(draw, 5000); // uptime ticks without new data
    return () => { left = true; off(); clearInterval(timer); };
  };
})();
