// borda dashboard core: API calls with credentials, the live stream,
// errors shown on the page, and small formatting helpers. No framework.
'use strict';
const B = window.B = { pages: {}, overview: null, listeners: new Set() };

// ---- credentials -------------------------------------------------------
B.authKey = 'borda.auth';
B.authHeader = () => sessionStorage.getItem(B.authKey) || '';
let loginWaiters = null;

// askLogin opens the sign-in dialog once, however many requests got 401,
// and resolves when the user submitted new credentials.
B.askLogin = function (rejected) {
  if (loginWaiters) return new Promise(r => loginWaiters.push(r));
  loginWaiters = [];
  const dlg = document.getElementById('login');
  document.getElementById('login-msg').textContent = rejected
    ? 'The credentials were rejected. Try again.'
    : 'This gateway requires credentials (http.guard.auth).';
  if (!dlg.open) dlg.showModal();
  return new Promise(resolve => {
    loginWaiters.push(resolve);
    const form = document.getElementById('login-form');
    form.onsubmit = async ev => {
      ev.preventDefault();
      const token = document.getElementById('login-token').value.trim();
      const user = document.getElementById('login-user').value;
      const pass = document.getElementById('login-pass').value;
      const h = token ? 'Bearer ' + token : 'Basic ' + btoa(unescape(encodeURIComponent(user + ':' + pass)));
      // One request checks the credentials before the waiting requests
      // retry: a typo costs one failed attempt towards a ban, not one per
      // widget.
      if (!await credentialsAccepted(h)) {
        document.getElementById('login-msg').textContent = 'The credentials were rejected. Try again.';
        return;
      }
      sessionStorage.setItem(B.authKey, h);
      dlg.close();
      const ws = loginWaiters; loginWaiters = null;
      ws.forEach(w => w());
    };
  });
};
async function credentialsAccepted(h) {
  try {
    const resp = await fetch('/api/v1/dashboard/overview',
      { headers: { 'Accept': 'application/json', 'Authorization': h }, cache: 'no-store', credentials: 'omit' });
    return resp.status !== 401 && resp.status !== 403;
  } catch (e) {
    return true; // not reachable: the waiting requests will say so
  }
}

// Requests carry only the credentials the dashboard holds: with the
// browser's own credentials mode a 401 with a Basic challenge would open the
// browser's password prompt (no tokens, and it blocks the request) instead of
// reaching this code.
const fetchOpts = () => ({ headers: headers(), cache: 'no-store', credentials: 'omit' });
function headers() {
  const h = { 'Accept': 'application/json' };
  const a = B.authHeader();
  if (a) h['Authorization'] = a;
  return h;
}

// api GETs a JSON API path and returns its data; failures throw an Error
// whose message names the path and the server's explanation. A 401 asks
// for credentials and retries; a 429 (http.guard.rate_limit) waits as long
// as the server says and retries, a few times.
B.api = async function (path) {
  for (let limited = 0; ; ) {
    let resp;
    try {
      resp = await fetch(path, fetchOpts());
    } catch (e) {
      throw new Error(`${path}: borda is not reachable (${e.message})`);
    }
    if (resp.status === 401) { await B.askLogin(!!B.authHeader()); continue; }
    if (resp.status === 429 && limited++ < 3) { await rateLimited(resp); continue; }
    if (limited) B.setError('rate', null);
    let body = null;
    try { body = await resp.json(); } catch (e) { /* not JSON */ }
    if (!resp.ok || !body || body.status !== 'success') {
      const why = body && body.error ? body.error : `HTTP ${resp.status} ${resp.statusText}`;
      throw new Error(`${path}: ${why}`);
    }
    return body.data;
  }
};

async function rateLimited(resp) {
  const secs = Math.min(Math.max(parseInt(resp.headers.get('Retry-After'), 10) || 1, 1), 60);
  B.setError('rate', new Error(`borda is limiting this browser's requests (http.guard.rate_limit); retrying in ${secs} s`));
  await new Promise(r => setTimeout(r, secs * 1000));
}

// ensureOverview returns the node's figures: the live stream's latest, or
// (before its first event) one request shared by every caller. Pages take
// its change counters as the state their first load reflects.
let overviewReq = null;
B.ensureOverview = function () {
  if (B.overview) return Promise.resolve(B.overview);
  if (!overviewReq) {
    overviewReq = B.api('/api/v1/dashboard/overview').then(o => { B.overview = B.overview || o; return B.overview; })
      .finally(() => { overviewReq = null; });
  }
  return overviewReq;
};

// ---- errors --------------------------------------------------------------
const errors = new Map(); // source → message
B.setError = function (source, err) {
  if (err) errors.set(source, err.message || String(err)); else errors.delete(source);
  const box = document.getElementById('error');
  box.textContent = [...errors.values()].join('\n');
  box.hidden = errors.size === 0;
};
// A script error is shown like any other failure, never a blank page.
window.addEventListener('error', ev => B.setError('script', new Error(`script error: ${ev.message}`)));
window.addEventListener('unhandledrejection', ev => B.setError('script', new Error(`script error: ${ev.reason && ev.reason.message || ev.reason}`)));
// guard runs an async widget update, reporting its failure visibly.
B.guard = async function (source, fn) {
  try { await fn(); B.setError(source, null); } catch (e) { B.setError(source, e); }
};

// ---- live stream (Server-Sent Events over fetch, so it carries credentials)
B.onOverview = fn => { B.listeners.add(fn); return () => B.listeners.delete(fn); };
function publish(o) {
  B.overview = o;
  for (const fn of [...B.listeners]) { try { fn(o); } catch (e) { B.setError('render', e); } }
}
function setLive(on, text) {
  const el = document.getElementById('live');
  el.className = 'live ' + (on ? 'on' : 'off');
  el.textContent = text;
}
// The stream is closed when the page is left (a reload, another site, the
// back-forward cache): an open stream holds one of the browser's few
// connections to the gateway, and a handful of them left behind would
// stall every later request. A page restored from the cache reconnects.
let streamCtl = null;
B.startStream = async function () {
  if (streamCtl) return;
  const ctl = streamCtl = new AbortController();
  for (let delay = 1000; !ctl.signal.aborted; delay = Math.min(delay * 2, 15000)) {
    try {
      const resp = await fetch('/api/v1/dashboard/stream', { ...fetchOpts(), signal: ctl.signal });
      if (resp.status === 401) { await B.askLogin(!!B.authHeader()); continue; }
      if (resp.status === 429) delay = Math.max(delay, 1000 * (parseInt(resp.headers.get('Retry-After'), 10) || 1));
      if (!resp.ok) throw new Error(`live stream: HTTP ${resp.status}`);
      setLive(true, 'live'); B.setError('stream', null); delay = 1000;
      await readEvents(resp.body.getReader());
    } catch (e) {
      if (ctl.signal.aborted) break;
      B.setError('stream', new Error(`live updates stopped: ${e.message}; retrying`));
    }
    setLive(false, 'reconnecting');
    await new Promise(r => setTimeout(r, delay));
  }
};
window.addEventListener('pagehide', () => { if (streamCtl) { streamCtl.abort(); streamCtl = null; } });
window.addEventListener('pageshow', ev => { if (ev.persisted) B.startStream(); });
async function readEvents(reader) {
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('stream closed by the server');
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i); buf = buf.slice(i + 2);
      let event = 'message', data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (event === 'overview' && data) publish(JSON.parse(data));
    }
  }
}

// ---- helpers -------------------------------------------------------------
// throttle calls fn at most once per ms (the last call wins).
B.throttle = function (fn, ms) {
  let last = 0, timer = null;
  return function () {
    const wait = last + ms - Date.now();
    if (wait <= 0 && !timer) { last = Date.now(); fn(); return; }
    if (!timer) timer = setTimeout(() => { timer = null; last = Date.now(); fn(); }, Math.max(wait, 0));
  };
};
// single runs fn one call at a time: a call while it runs asks for one
// more run after it (with the state of then), never a pile of requests.
B.single = function (fn) {
  let running = null, again = false;
  return function () {
    if (running) { again = true; return running; }
    running = (async () => {
      try { do { again = false; await fn(); } while (again); } finally { running = null; }
    })();
    return running;
  };
};
B.el = function (tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
};
B.num = function (v, digits) {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'string') return v;
  const d = digits === undefined ? (Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2) : digits;
  return v.toLocaleString(undefined, { maximumFractionDigits: d });
};
B.pct = v => (v === null || v === undefined) ? 'n/a' : (v * 100).toFixed(1) + ' %';
B.bytes = function (v) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0; while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return B.num(v, 1) + ' ' + u[i];
};
B.dur = function (s) {
  s = Math.max(0, Math.floor(s));
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m ${s % 60}s` : `${s}s`;
};
B.ago = function (t) {
  const s = (Date.now() - new Date(t).getTime()) / 1000;
  return s < 1 ? 'just now' : B.dur(s) + ' ago';
};
// reEscape quotes a value for a PromQL regex inside a double-quoted string.
B.reEscape = v => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\/g, '\\\\').replace(/"/g, '\\"');
B.strEscape = v => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
B.queryRange = function (query, startSec, endSec, step) {
  const p = new URLSearchParams({ query, start: startSec.toFixed(3), end: endSec.toFixed(3), step: String(step) });
  return B.api('/api/v1/query_range?' + p.toString());
};
