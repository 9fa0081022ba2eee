// Cameras page: per camera fps in/processed/dropped, inference latency and
// the latest detections, when the vision component runs.
'use strict';
(function () {
  const { el, num } = B;

  function camera(c) {
    const dets = (c.detections || []).slice(0, 20).map(d => el('tr', {},
      el('td', {}, new Date(d.timestamp).toLocaleTimeString()), el('td', {}, d.label), el('td', { class: 'num' }, num(d.confidence * 100, 0) + ' %')));
    return el('div', { class: 'card', 'data-camera': c.name }, el('h3', {}, c.name),
      c.source_up ? null : el('p', { class: 'bad camera-down' }, 'source down' + (c.error ? ': ' + c.error : '')),
      el('dl', { class: 'kv' }, el('dt', {}, 'fps in'), el('dd', {}, num(c.fps_in, 1)), el('dt', {}, 'fps processed'), el('dd', {}, num(c.fps_processed, 1)),
        el('dt', {}, 'fps dropped'), el('dd', { class: c.fps_dropped > 0 ? 'warn' : '' }, num(c.fps_dropped, 1)),
        el('dt', {}, 'inference'), el('dd', {}, num(c.inference_seconds * 1000, 1) + ' ms')),
      dets.length ? el('table', {}, el('tbody', {}, dets)) : counts(c.counts));
  }

  // counts shows detections by label when the latest ones are not known.
  function counts(byLabel) {
    const rows = Object.entries(byLabel || {}).sort((a, b) => b[1] - a[1]).map(([label, n]) =>
      el('tr', {}, el('td', {}, label), el('td', { class: 'num' }, num(n, 0))));
    return rows.length ? el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'detected'), el('th', {}, 'count'))), el('tbody', {}, rows))
      : el('p', { class: 'muted' }, 'no detections yet');
  }

  // Polling: every 5 s while vision runs; after a failure 10, 20, 40, 60 s
  // (the error shows meanwhile); not at all when vision is off (it is
  // configured at start). Leaving the page stops it, also mid-request.
  // (Tests shorten the periods through B.camerasPoll.)
  B.camerasPoll = { every: 5000, maxBackoff: 60000 };

  B.pages.cameras = function (root) {
    const body = el('div', { id: 'cameras' }, el('p', { class: 'muted' }, 'loading…'));
    root.replaceChildren(el('h2', {}, 'Cameras'), body);
    async function load() {
      const d = await B.api('/api/v1/dashboard/cameras');
      if (left) return false;
      if (!d.enabled) { body.replaceChildren(el('p', { class: 'muted', id: 'vision-off' }, 'vision off: no camera pipeline is configured on this node')); return false; }
      const down = d.vision && !d.vision.up
        ? el('div', { class: 'error', id: 'vision-error', role: 'alert' }, 'vision is not running: ' + d.vision.error) : null;
      body.replaceChildren(...[down, d.cameras.length ? el('div', { class: 'cards' }, d.cameras.map(camera))
        : el('p', { class: 'muted' }, down ? 'no camera figures while vision is down' : 'no cameras')].filter(Boolean));
      return true;
    }
    const { every, maxBackoff } = B.camerasPoll;
    let timer = null, left = false, delay = every;
    async function tick() {
      timer = null;
      let again = true;
      try {
        again = await load();
        if (!left) B.setError('cameras', null);
        delay = every;
      } catch (e) {
        if (!left) B.setError('cameras', e);
        delay = Math.min(delay * 2, maxBackoff);
      }
      if (again && !left) timer = setTimeout(tick, delay);
    }
    tick();
    return () => { left = true; clearTimeout(timer); };
  };
})();
