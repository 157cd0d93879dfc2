// push-miniprogram.js (as served by pushd) under Node, loaded the way a
// WeChat mini-program loads a file: as CommonJS in a context of its own with
// no window, document, localStorage, XMLHttpRequest, WebSocket or fetch. The
// `wx` object it uses is real underneath: wx.connectSocket returns a
// SocketTask backed by a WebSocket (the ws package) and wx.request is fetch,
// against the real server.

import assert from 'node:assert/strict';
import vm from 'node:vm';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { assetBase, env, restartServer, startProxy, startSite, trigger, uniq, waitUntil, wsURL } from './lib.mjs';

/**
 * A mini-program's wx API as far as the client uses it: connectSocket
 * returning a SocketTask (onOpen, onMessage, onError, onClose, send, close),
 * request, and the network and app-show events, backed by ws and fetch.
 */
function makeWx() {
  const calls = [];
  const network = [];
  const shown = [];
  const tasks = [];
  return {
    calls,
    tasks,
    connectSocket(o) {
      calls.push(['connectSocket', o.url]);
      const s = new WebSocket(o.url);
      const cb = { open: [], message: [], error: [], close: [] };
      const fire = (name, res) => cb[name].slice().forEach((f) => f(res));
      s.on('open', () => fire('open', { header: {} }));
      s.on('message', (data) => fire('message', { data: data.toString() }));
      s.on('error', (e) => fire('error', { errMsg: e.message }));
      s.on('close', (code, reason) => fire('close', { code, reason: reason.toString() }));
      setTimeout(() => o.success?.({ errMsg: 'connectSocket:ok' }), 0);
      const task = {
        ws: s,
        onOpen: (f) => cb.open.push(f),
        onMessage: (f) => cb.message.push(f),
        onError: (f) => cb.error.push(f),
        onClose: (f) => cb.close.push(f),
        send(p) {
          if (s.readyState !== WebSocket.OPEN) return p.fail?.({ errMsg: 'sendSocketMessage:fail not open' });
          s.send(p.data);
          p.success?.({});
        },
        close(p = {}) {
          calls.push(['close', p.code]);
          const code = p.code === 1000 || (p.code >= 3000 && p.code <= 4999) ? p.code : 1000;
          if (s.readyState === WebSocket.CONNECTING) s.terminate();
          else s.close(code, p.reason);
          p.success?.({});
        },
      };
      tasks.push(task);
      return task;
    },
    request(o) {
      calls.push(['request', o.url, o.method, o.header, o.data, o.dataType]);
      fetch(o.url, { method: o.method, headers: o.header, body: o.data, signal: AbortSignal.timeout(o.timeout ?? 10000) })
        .then(async (r) => o.success?.({ statusCode: r.status, data: await r.text(), header: {} }))
        .catch((e) => o.fail?.({ errMsg: `request:fail ${e.message}` }));
    },
    onNetworkStatusChange: (f) => network.push(f),
    offNetworkStatusChange: (f) => network.splice(network.indexOf(f) >>> 0, 1),
    onAppShow: (f) => shown.push(f),
    offAppShow: (f) => shown.splice(shown.indexOf(f) >>> 0, 1),
    networkChanged: (isConnected) => network.slice().forEach((f) => f({ isConnected, networkType: 'wifi' })),
    appShow: () => shown.slice().forEach((f) => f({ path: 'pages/index/index', scene: 1001 })),
  };
}

/** A fresh context with only what a mini-program's JavaScript has. */
function miniProgramContext(extra = {}) {
  return vm.createContext({ console, setTimeout, clearTimeout, setInterval, clearInterval, ...extra });
}

/**
 * Runs file as WeChat runs a mini-program module: wrapped in a function of
 * (require, module, exports) that also hides the browser's names.
 */
function requireInMiniProgram(code, context) {
  const wrapped = `(function (require, module, exports, window, document, self, localStorage, XMLHttpRequest, WebSocket) {\n${code}\n})`;
  const fn = vm.runInContext(wrapped, context, { filename: 'push-miniprogram.js' });
  const module = { exports: {} };
  fn.call(module.exports, () => { throw new Error('push-miniprogram.js called require'); }, module, module.exports);
  return module.exports;
}

/** Copies a value made in the mini-program's context into this one (for deepEqual). */
const plain = (v) => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

let code;
let Push;
let context;
let globalWx;
let site;
const clients = [];

before(async () => {
  const res = await fetch(`${assetBase}/push-miniprogram.js`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/javascript/);
  code = await res.text();
  globalWx = makeWx();
  context = miniProgramContext({ wx: globalWx });
  Push = requireInMiniProgram(code, context);
  site = await startSite({
    authorize: ({ channel, socketId }) => (channel.includes('badsig') ? { auth: `${env.key}:${'0'.repeat(64)}` } : undefined),
  });
});
after(async () => {
  for (const c of clients) c.disconnect();
  await site?.close();
});

function client(opts = {}) {
  const wx = opts.wx === null ? undefined : (opts.wx ?? makeWx());
  const o = { url: wsURL, app_key: env.key, auth: `${site.base}/auth`, ...opts };
  if (wx) o.wx = wx;
  else delete o.wx;
  const p = new Push(o);
  p.wx = wx ?? globalWx;
  p.states = [];
  p.errors = [];
  p.connection.on('state_change', (s) => p.states.push(s.current));
  p.connection.on('error', (e) => p.errors.push(plain(e)));
  clients.push(p);
  return p;
}

function subscribe(p, name) {
  const ch = p.subscribe(name);
  ch.events = [];
  ch.subErrors = [];
  ch.succeeded = 0;
  ch.on('pusher:subscription_succeeded', () => ch.succeeded++);
  ch.on('pusher:subscription_error', (e) => ch.subErrors.push(plain(e)));
  return ch;
}

test('mp: the served file is CommonJS (module.exports = Push), a global only without a module system', async () => {
  assert.equal(typeof Push, 'function');
  assert.equal(Push.name, 'Push');
  for (const name of ['window', 'document', 'localStorage', 'XMLHttpRequest', 'WebSocket', 'fetch', 'Push', 'nacl']) {
    assert.equal(vm.runInContext(`typeof ${name}`, context), 'undefined', `${name} in the mini-program's context`);
  }
  const webman = await fetch(`${assetBase}/plugin/webman/push/push-miniprogram.js`);
  assert.equal(webman.status, 200);
  assert.equal(await webman.text(), code, "webman's path serves the same file");
  const bare = miniProgramContext();
  vm.runInContext(code, bare, { filename: 'push-miniprogram.js' });
  assert.equal(vm.runInContext('typeof Push', bare), 'function', 'no module system: a global Push');
});

test('mp: public channel event from the HTTP API, through the global wx', async () => {
  const p = client({ wx: null });
  const ch = subscribe(p, uniq('mp-news'));
  ch.on('message', (d) => ch.events.push(plain(d)));
  await waitUntil(() => ch.succeeded, 'subscribed');
  assert.deepEqual(p.states, ['connecting', 'connected']);
  const opened = globalWx.calls.filter((c) => c[0] === 'connectSocket');
  assert.match(opened.at(-1)[1], /^ws:\/\/127\.0\.0\.1:\d+\/app\/app-key\?protocol=7&client=pushd-js/);
  await trigger(ch.name, 'message', { text: 'hi mini-program' });
  await waitUntil(() => ch.events.length, 'event');
  assert.deepEqual(ch.events, [{ text: 'hi mini-program' }]);
});

test('mp: private channel authorized through wx.request; refusals are error callbacks, never throws', async () => {
  const p = client();
  const ch = subscribe(p, uniq('private-mp'));
  ch.on('e', (d) => ch.events.push(plain(d)));
  await waitUntil(() => ch.succeeded, 'private subscribed');
  const req = p.wx.calls.find((c) => c[0] === 'request');
  assert.equal(req[1], `${site.base}/auth`);
  assert.equal(req[2], 'POST');
  assert.equal(req[3]['Content-Type'], 'application/x-www-form-urlencoded');
  assert.equal(req[4], `channel_name=${ch.name}&socket_id=${p.connection.socket_id}`);
  assert.notEqual(req[5], 'json', 'the answer is read as text');
  await trigger(ch.name, 'e', [1, 2, 3]);
  await waitUntil(() => ch.events.length, 'private event');
  assert.deepEqual(ch.events, [[1, 2, 3]]);

  // the auth endpoint says 403; a listener that throws hurts nobody
  const forbidden = subscribe(p, uniq('private-forbidden-mp'));
  forbidden.on('pusher:subscription_error', () => { throw new Error('a listener failing'); });
  await waitUntil(() => forbidden.subErrors.length, 'subscription_error from the auth endpoint');
  assert.equal(forbidden.subErrors[0].type, 'AuthError');
  assert.equal(forbidden.subErrors[0].status, 403);

  // the endpoint answers with a signature that is not the app's: pushd refuses
  const badsig = subscribe(p, uniq('private-badsig-mp'));
  await waitUntil(() => badsig.subErrors.length, 'subscription_error from pushd');
  assert.equal(badsig.subErrors[0].type, 'AuthError');
  assert.equal(badsig.subErrors[0].status, 401);
  assert.match(badsig.subErrors[0].error, /secret/, `says what to fix: ${badsig.subErrors[0].error}`);
  assert.ok(!badsig.subErrors[0].error.includes(env.secret), 'no secret in the message');

  // a relative auth URL cannot work in a mini-program (no page origin): said so
  const q = client({ auth: '/plugin/webman/push/auth' });
  const rel = subscribe(q, uniq('private-relative-mp'));
  await waitUntil(() => rel.subErrors.length, 'subscription_error for a relative auth URL');
  assert.match(rel.subErrors[0].error, /absolute URL/);
  assert.equal(q.wx.calls.filter((c) => c[0] === 'request').length, 0, 'no request made');

  // a client event on a public channel: pushd's pusher:error arrives as an error event
  const pub = subscribe(p, uniq('mp-public'));
  await waitUntil(() => pub.succeeded, 'public subscribed');
  pub.trigger('client-x', { no: 1 });
  await waitUntil(() => p.errors.some((e) => e.type === 'PusherError'), 'pusher:error for a public client event');
  const e = p.errors.find((x) => x.type === 'PusherError');
  assert.equal(e.data.code, 4300);
  assert.match(e.data.message, /private- or presence-/);

  assert.equal(p.connection.state, 'connected');
  assert.equal(q.connection.state, 'connected');
  assert.equal(ch.subscribed, true);
});

test('mp: client events between two mini-program clients, not echoed to the sender', async () => {
  const name = uniq('private-mp-chat');
  const a = client();
  const b = client();
  const ca = subscribe(a, name);
  const cb = subscribe(b, name);
  ca.on('client-msg', (d) => ca.events.push(plain(d)));
  cb.on('client-msg', (d) => cb.events.push(plain(d)));
  ca.on('server', (d) => ca.events.push(plain(d)));
  await waitUntil(() => ca.succeeded && cb.succeeded, 'both subscribed');
  assert.equal(ca.trigger('client-msg', { from: 'a' }), true);
  await waitUntil(() => cb.events.length, 'client event at b');
  assert.deepEqual(cb.events, [{ from: 'a' }]);
  // an API event after it: once it is at a, an echo would have come before it
  await trigger(name, 'server', 'after');
  await waitUntil(() => ca.events.length, 'API event at a');
  assert.deepEqual(ca.events, ['after'], 'a got its own client event back');
});

test('mp: presence members added and removed', async () => {
  const name = uniq('presence-mp');
  const a = client({ auth: `${site.base}/auth?user=ua` });
  const ca = subscribe(a, name);
  const added = [];
  const removed = [];
  ca.on('pusher:member_added', (m) => added.push(plain(m)));
  ca.on('pusher:member_removed', (m) => removed.push(plain(m)));
  await waitUntil(() => ca.succeeded, 'a subscribed');
  assert.equal(ca.members.count, 1);
  assert.equal(ca.members.me.id, 'ua');
  const b = client({ auth: `${site.base}/auth?user=ub` });
  const cb = subscribe(b, name);
  await waitUntil(() => cb.succeeded, 'b subscribed');
  assert.equal(cb.members.count, 2);
  assert.deepEqual(plain(cb.members.get('ua')), { id: 'ua', info: { name: 'User ua' } });
  await waitUntil(() => added.length, 'member_added at a');
  assert.deepEqual(added, [{ id: 'ub', info: { name: 'User ub' } }]);
  assert.equal(ca.members.count, 2);
  b.disconnect();
  await waitUntil(() => removed.length, 'member_removed at a');
  assert.deepEqual(removed, [{ id: 'ub', info: { name: 'User ub' } }]);
  assert.equal(ca.members.count, 1);
});

test('mp: reconnect after the server restarts resumes: events sent while away arrive once, in order', async () => {
  // a 20 s back-off: the client is certainly away while the events are sent,
  // and only the network hint brings it back in time
  const p = client({ reconnectDelay: 20000, maxReconnectDelay: 20000 });
  const ch = subscribe(p, uniq('private-mp-restart'));
  const recovery = [];
  ch.on('e', (d) => ch.events.push(plain(d)));
  ch.on('pusher:recovery_failed', () => recovery.push(1));
  await waitUntil(() => ch.succeeded, 'subscribed');
  await trigger(ch.name, 'e', 0);
  await waitUntil(() => ch.events.length, 'first event');
  const firstSocket = p.connection.socket_id;
  await restartServer();
  assert.notEqual(p.connection.state, 'connected', 'still away after the restart');
  for (let i = 1; i <= 20; i++) await trigger(ch.name, 'e', i);
  assert.equal(ch.events.length, 1, 'nothing arrives while away');
  p.wx.networkChanged(true);
  await waitUntil(() => ch.succeeded >= 2, 'resubscribed after the restart', 10000);
  await trigger(ch.name, 'e', 21);
  await waitUntil(() => ch.events.length >= 22, 'the events sent while away, then a live one', 10000);
  assert.deepEqual(ch.events, Array.from({ length: 22 }, (_, i) => i));
  assert.deepEqual(recovery, []);
  assert.notEqual(p.connection.socket_id, firstSocket);
  assert.ok(p.states.includes('disconnected'), `states ${p.states}`);
  assert.ok(p.wx.calls.filter((c) => c[0] === 'connectSocket').length >= 2, 'a new SocketTask');
});

test('mp: wx.onAppShow reconnects at once after the socket was dropped in the background, resuming', async () => {
  const proxy = await startProxy();
  try {
    const p = client({ url: proxy.url, reconnectDelay: 20000, maxReconnectDelay: 20000 });
    const ch = subscribe(p, uniq('mp-show'));
    ch.on('n', (d) => ch.events.push(plain(d)));
    await waitUntil(() => ch.succeeded, 'subscribed');
    await trigger(ch.name, 'n', 0);
    await waitUntil(() => ch.events.length, 'first event');
    proxy.cut();
    await waitUntil(() => p.connection.state !== 'connected', 'notices the cut');
    for (let i = 1; i <= 10; i++) await trigger(ch.name, 'n', i);
    proxy.heal();
    const t0 = Date.now();
    p.wx.appShow();
    await waitUntil(() => ch.events.length >= 11, 'resumed events', 5000);
    assert.ok(Date.now() - t0 < 3000, `reconnected ${Date.now() - t0} ms after onAppShow`);
    assert.deepEqual(ch.events, Array.from({ length: 11 }, (_, i) => i));
  } finally {
    await proxy.close();
  }
});

test('mp: a socket whose connectSocket fails or that errors without a close still reconnects', async () => {
  const wx = makeWx();
  const real = wx.connectSocket.bind(wx);
  let n = 0;
  wx.connectSocket = (o) => {
    n++;
    if (n === 1) {
      // as WeChat does for a domain missing from the socket whitelist: fail,
      // and the task never reports anything
      setTimeout(() => o.fail?.({ errMsg: 'connectSocket:fail url not in domain list' }), 0);
      const nothing = () => {};
      return { onOpen: nothing, onMessage: nothing, onError: nothing, onClose: nothing, send: nothing, close: nothing };
    }
    if (n === 2) {
      // onError with no onClose after it, as some WeChat clients do
      const task = real(o);
      const errors = [];
      const onError = task.onError;
      task.onError = (f) => { errors.push(f); onError(() => {}); };
      task.onClose = () => {};
      task.onOpen(() => setTimeout(() => errors.forEach((f) => f({ errMsg: 'socket error' })), 50));
      return task;
    }
    return real(o);
  };
  const p = client({ wx, reconnectDelay: 50, maxReconnectDelay: 100 });
  const ch = subscribe(p, uniq('mp-flaky'));
  ch.on('e', (d) => ch.events.push(plain(d)));
  await waitUntil(() => ch.succeeded && n >= 3 && p.connection.state === 'connected', 'connected on the third socket', 10000);
  await trigger(ch.name, 'e', 'ok');
  await waitUntil(() => ch.events.length, 'event on the third socket');
  assert.ok(p.errors.some((e) => e.type === 'WebSocketError'), 'the failures were reported');
});
