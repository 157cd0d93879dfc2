// uniapp-push.js (as served by pushd) under Node, with a `uni` object whose
// socket API is backed by a real WebSocket (the ws package) and whose
// uni.request is fetch, against the real server.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { assetBase, backend, env, restartServer, startProxy, startSite, trigger, uniq, waitUntil, wsURL } from './lib.mjs';

/**
 * A uni-app runtime's socket and request API (one global socket; each on*
 * function holds one callback; closeSocket's close event arrives later),
 * backed by ws and fetch.
 */
function makeUni() {
  let sock = null;
  const cb = {};
  const network = [];
  const calls = [];
  return {
    calls,
    socket: () => sock,
    connectSocket(o) {
      calls.push(['connectSocket', o.url]);
      let s;
      try {
        s = new WebSocket(o.url);
      } catch (e) {
        o.fail?.({ errMsg: `connectSocket:fail ${e.message}` });
        o.complete?.();
        return;
      }
      sock = s;
      s.on('open', () => cb.open?.({ header: {} }));
      s.on('message', (data) => cb.message?.({ data: data.toString() }));
      s.on('error', (e) => cb.error?.({ errMsg: e.message }));
      s.on('close', (code, reason) => {
        if (sock === s) sock = null;
        cb.close?.({ code, reason: reason.toString() });
      });
      o.success?.({ errMsg: 'connectSocket:ok' });
      o.complete?.();
    },
    onSocketOpen: (f) => (cb.open = f),
    onSocketMessage: (f) => (cb.message = f),
    onSocketError: (f) => (cb.error = f),
    onSocketClose: (f) => (cb.close = f),
    sendSocketMessage(o) {
      if (sock && sock.readyState === WebSocket.OPEN) {
        sock.send(o.data);
        o.success?.({});
      } else o.fail?.({ errMsg: 'sendSocketMessage:fail not open' });
    },
    closeSocket(o = {}) {
      calls.push(['closeSocket', o.code]);
      if (!sock) return o.fail?.({ errMsg: 'closeSocket:fail no socket' });
      const code = o.code === 1000 || (o.code >= 3000 && o.code <= 4999) ? o.code : 1000;
      sock.close(code, o.reason);
      o.success?.({});
    },
    request(o) {
      calls.push(['request', o.url, o.method, o.header, o.data]);
      fetch(o.url, { method: o.method, headers: o.header, body: o.data, signal: AbortSignal.timeout(o.timeout ?? 10000) })
        .then(async (r) => o.success?.({ statusCode: r.status, data: await r.text(), header: {} }))
        .catch((e) => o.fail?.({ errMsg: `request:fail ${e.message}` }));
    },
    onNetworkStatusChange: (f) => network.push(f),
    networkChanged: (isConnected) => network.forEach((f) => f({ isConnected, networkType: 'wifi' })),
  };
}

let Push;
let site;
const clients = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pushd-uni-'));

before(async () => {
  const res = await fetch(`${assetBase}/uniapp-push.js`);
  assert.equal(res.status, 200);
  const file = path.join(tmp, 'uniapp-push.mjs');
  fs.writeFileSync(file, await res.text());
  Push = (await import(pathToFileURL(file).href)).default;
  site = await startSite();
});
after(async () => {
  for (const c of clients) c.disconnect();
  await site?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function client(opts = {}) {
  const uni = makeUni();
  const p = new Push({ url: wsURL, app_key: env.key, auth: `${site.base}/auth`, uni, ...opts });
  p.uni = uni;
  p.states = [];
  p.errors = [];
  p.connection.on('state_change', (s) => p.states.push(s.current));
  p.connection.on('error', (e) => p.errors.push(e));
  clients.push(p);
  return p;
}

function subscribe(p, name) {
  const ch = p.subscribe(name);
  ch.events = [];
  ch.subErrors = [];
  ch.succeeded = 0;
  ch.on('pusher:subscription_succeeded', () => ch.succeeded++);
  ch.on('pusher:subscription_error', (e) => ch.subErrors.push(e));
  return ch;
}

test('uni: public channel event from the HTTP API', async () => {
  const p = client();
  const ch = subscribe(p, uniq('uni-news'));
  ch.on('message', (d) => ch.events.push(d));
  await waitUntil(() => ch.succeeded, 'subscribed');
  assert.deepEqual(p.states, ['connecting', 'connected']);
  assert.match(p.uni.calls[0][1], /\/app\/app-key\?protocol=7&client=pushd-js/);
  await trigger(ch.name, 'message', { text: 'hi uni' });
  await waitUntil(() => ch.events.length, 'event');
  assert.deepEqual(ch.events, [{ text: 'hi uni' }]);
});

test('uni: private channel through uni.request to the auth endpoint; refusal is an event', async () => {
  const p = client();
  const ch = subscribe(p, uniq('private-uni'));
  ch.on('e', (d) => ch.events.push(d));
  await waitUntil(() => ch.succeeded, 'private subscribed');
  const req = p.uni.calls.find((c) => c[0] === 'request');
  assert.equal(req[2], 'POST');
  assert.equal(req[3]['Content-Type'], 'application/x-www-form-urlencoded');
  assert.match(req[4], new RegExp(`channel_name=${ch.name}&socket_id=\\d+\\.\\d+`));
  await trigger(ch.name, 'e', [1, 2, 3]);
  await waitUntil(() => ch.events.length, 'private event');
  assert.deepEqual(ch.events, [[1, 2, 3]]);
  const bad = subscribe(p, uniq('private-forbidden-uni'));
  await waitUntil(() => bad.subErrors.length, 'subscription_error');
  assert.equal(bad.subErrors[0].status, 403);
  assert.equal(p.connection.state, 'connected');
});

test('uni: encrypted channel: shared_secret through uni.request, SDK-encrypted events decrypted, client events refused', async () => {
  const p = client();
  const ch = subscribe(p, uniq('private-encrypted-uni'));
  ch.on('secret', (d) => ch.events.push(d));
  await waitUntil(() => ch.succeeded, 'encrypted subscribed');
  const sent = [{ text: 'héllo 😀' }, 'two', { big: 'ж'.repeat(2500) }];
  for (const d of sent) await backend.trigger(ch.name, 'secret', d);
  await waitUntil(() => ch.events.length >= sent.length, 'decrypted events');
  assert.deepEqual(ch.events, sent);
  assert.throws(() => ch.trigger('client-x', {}), { name: 'UnsupportedFeature' });
  assert.equal(globalThis.nacl, undefined, 'the vendored tweetnacl sets no global');
});

test('uni: client events between two uni clients', async () => {
  const name = uniq('presence-uni');
  const a = client({ auth: `${site.base}/auth?user=ua` });
  const b = client({ auth: `${site.base}/auth?user=ub` });
  const ca = subscribe(a, name);
  const cb = subscribe(b, name);
  const metas = [];
  ca.on('client-ping', (d, meta) => { ca.events.push(d); metas.push(meta); });
  cb.on('client-ping', (d) => cb.events.push(d));
  await waitUntil(() => ca.succeeded && cb.succeeded, 'both subscribed');
  cb.trigger('client-ping', { from: 'b' });
  await waitUntil(() => ca.events.length, 'client event at a');
  assert.deepEqual(ca.events, [{ from: 'b' }]);
  assert.equal(metas[0].user_id, 'ub', 'presence client events carry the sender');
  ca.trigger('client-ping', { from: 'a' });
  await waitUntil(() => cb.events.length, 'client event at b');
  assert.deepEqual(cb.events, [{ from: 'a' }]);
  assert.equal(ca.members.count, 2);
  assert.equal(ca.members.me.id, 'ua');
});

test('uni: reconnect after the server restarts, resubscribe, events flow', async () => {
  const p = client();
  const ch = subscribe(p, uniq('private-uni-restart'));
  ch.on('e', (d) => ch.events.push(d));
  await waitUntil(() => ch.succeeded, 'subscribed');
  await trigger(ch.name, 'e', 'one');
  await waitUntil(() => ch.events.length, 'first event');
  await restartServer();
  await waitUntil(() => ch.succeeded >= 2, 'resubscribed after restart', 20000);
  await trigger(ch.name, 'e', 'two');
  await waitUntil(() => ch.events.length >= 2, 'event after restart');
  assert.deepEqual(ch.events, ['one', 'two']);
  assert.ok(p.states.includes('disconnected'), `states ${p.states}`);
});

test('uni: onNetworkStatusChange resets the back-off and reconnects at once, resuming', async () => {
  const proxy = await startProxy();
  try {
    // a 20 s back-off: only the network event can bring it back in time
    const p = client({ url: proxy.url, reconnectDelay: 20000, maxReconnectDelay: 20000 });
    const ch = subscribe(p, uniq('uni-net'));
    ch.on('n', (d) => ch.events.push(d));
    await waitUntil(() => ch.succeeded, 'subscribed');
    await trigger(ch.name, 'n', 0);
    await waitUntil(() => ch.events.length, 'first event');
    proxy.cut();
    await waitUntil(() => p.connection.state !== 'connected', 'notices the cut');
    for (let i = 1; i <= 20; i++) await trigger(ch.name, 'n', i);
    proxy.heal();
    await new Promise((r) => setTimeout(r, 200));
    assert.notEqual(p.connection.state, 'connected', 'still backing off');
    const t0 = Date.now();
    p.uni.networkChanged(true);
    await waitUntil(() => ch.events.length >= 21, 'resumed events', 5000);
    assert.ok(Date.now() - t0 < 3000, `reconnected ${Date.now() - t0} ms after the network event`);
    assert.deepEqual(ch.events, Array.from({ length: 21 }, (_, i) => i));
  } finally {
    await proxy.close();
  }
});
