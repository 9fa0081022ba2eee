// Router: #/overview, #/devices, #/device/<id>, #/alerts, #/cameras.
'use strict';
(function () {
  let cleanup = null;
  function route() {
    const hash = location.hash.replace(/^#\/?/, '') || 'overview';
    const [page, ...rest] = hash.split('/');
    const root = document.getElementById('page');
    if (cleanup) { cleanup(); cleanup = null; }
    ['overview', 'devices', 'device', 'alerts', 'cameras'].forEach(p => B.setError(p, null));
    B.setError('sparklines', null);
    document.querySelectorAll('nav a').forEach(a =>
      a.classList.toggle('active', a.dataset.page === (page === 'device' ? 'devices' : page)));
    const render = B.pages[page];
    if (!render) { root.textContent = 'no such page: ' + hash; return; }
    document.body.dataset.page = page;
    cleanup = render(root, decodeURIComponent(rest.join('/'))) || null;
  }
  window.addEventListener('hashchange', route);
  route();
  B.startStream();
})();
