// The WASM client in Node, for a fast check without a browser. Run as a
// preload of Go's own runner:
//
//   node --import ./node-check.mjs $(go env GOROOT)/lib/wasm/wasm_exec_node.js push.wasm
//
// push.wasm defines globalThis.Push and calls __pushWasmReady; the checks
// then drive it exactly as a page would, against the real server.

import http from 'node:http';
import crypto from 'node:crypto';
import {
  channelAuth, env, readBody, requireBrowserDeps, requireNodeDeps, startProxy, trigger, triggerMany, waitUntil, wsURL,
} from './lib.mjs';

// The official server SDK encrypts private-encrypted- events and answers
// their auth with the shared secret.
const Pusher = requireNodeDeps('pusher');
const sdk = new Pusher({
  appId: env.appId, key: env.key, secret: env.secret, host: env.apiHost, port: String(env.apiPort), useTLS: false,
  encryptionMasterKeyBase64: crypto.randomBytes(32).toString('base64'),
});

if (typeof globalThis.WebSocket === 'undefined') {
  // Node 20 has a WebSocket global only with --experimental-websocket.
  globalThis.WebSocket = requireBrowserDeps('ws');
}

// The app backend's auth route, as webman/push's /plugin/webman/push/auth.
const authRequests = [];
const backend = http.createServer(async (req, res) => {
  const form = new URLSearchParams(await readBody(req));
  const uid = new URL(req.url, 'http://x').searchParams.get('uid');
  authRequests.push({ type: req.headers['content-type'], channel: form.get('channel_name'), socket: form.get('socket_id') });
  res.setHeader('Content-Type', 'application/json');
  if (req.url.startsWith('/user-auth')) {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(sdk.authenticateUser(form.get('socket_id'), { id: 'u-' + uid })));
    return;
  }
  const channel = form.get('channel_name');
  const answer = channel.startsWith('private-encrypted-')
    ? sdk.authorizeChannel(form.get('socket_id'), channel)
    : channelAuth(form.get('socket_id'), channel, uid);
  res.end(JSON.stringify(answer));
});
await new Promise((r) => backend.listen(0, '127.0.0.1', r));
const authURL = `http://127.0.0.1:${backend.address().port}/auth`;

function client(uid, url = wsURL) {
  const T = { states: [], events: [], subscribed: {}, errors: [] };
  const push = new Push({
    url, app_key: env.key, auth: `${authURL}?uid=${uid}`, user_auth: `${authURL.replace('/auth', '/user-auth')}?uid=${uid}`,
    min_backoff: 50, max_backoff: 200,
  });
  push.connection.on('state_change', (s) => T.states.push(s.current));
  push.connection.on('error', (e) => T.errors.push(e));
  T.push = push;
  T.sub = (name) => {
    const ch = push.subscribe(name);
    ch.on('pusher:subscription_succeeded', () => { T.subscribed[name] = (T.subscribed[name] || 0) + 1; });
    ch.on('pusher:subscription_error', (e) => T.errors.push({ name, e }));
    return ch;
  };
  T.connected = () => waitUntil(() => push.connection.state === 'connected', `${uid} connected`);
  T.subscribedTo = (name, n = 1) => waitUntil(() => (T.subscribed[name] || 0) >= n, `${uid} subscribed to ${name}`);
  return T;
}

function check(cond, what) {
  if (!cond) throw new Error(what);
}

const checks = {
  async 'public channel: an API event reaches the client, data parsed'() {
    const a = client('alice');
    await a.connected();
    check(/^\d+\.\d+$/.test(a.push.connection.socket_id), `socket_id ${a.push.connection.socket_id}`);
    const got = [];
    a.sub('node-news').on('message', (d, meta) => got.push({ d, meta }));
    await a.subscribedTo('node-news');
    await trigger('node-news', 'message', { text: 'hi' });
    await waitUntil(() => got.length === 1, 'message');
    check(got[0].d.text === 'hi' && got[0].meta.seq > 0, `got ${JSON.stringify(got)}`);
    check(a.states.join(',') === 'connecting,connected', `states ${a.states}`);
    a.push.disconnect();
    await waitUntil(() => a.push.connection.state === 'disconnected', 'disconnected');
  },
  async 'private channel through the auth endpoint (form POST)'() {
    const a = client('alice');
    await a.connected();
    const got = [];
    a.sub('private-node').on('secret', (d) => got.push(d));
    await a.subscribedTo('private-node');
    const req = authRequests.find((r) => r.channel === 'private-node');
    check(req && req.type === 'application/x-www-form-urlencoded' && req.socket === a.push.connection.socket_id, `auth request ${JSON.stringify(req)}`);
    await trigger('private-node', 'secret', 'plain text');
    await waitUntil(() => got.length === 1, 'private event');
    check(got[0] === 'plain text', `got ${JSON.stringify(got)}`);
    a.push.disconnect();
  },
  async 'encrypted channel: an event the pusher SDK encrypted arrives decrypted'() {
    const a = client('alice');
    await a.connected();
    const got = [];
    a.sub('private-encrypted-node').on('secret', (d) => got.push(d));
    await a.subscribedTo('private-encrypted-node');
    await sdk.trigger('private-encrypted-node', 'secret', { pin: '1234' });
    await waitUntil(() => got.length === 1, 'encrypted event');
    check(got[0].pin === '1234', `got ${JSON.stringify(got)}`);
    a.push.disconnect();
  },
  async 'signin and an event sent to the user'() {
    const a = client('dora');
    await a.connected();
    const got = [];
    a.push.user.on('notice', (d) => got.push(d));
    let signed = false;
    a.push.on('pusher:signin_success', () => { signed = true; });
    a.push.signin();
    await waitUntil(() => signed, 'pusher:signin_success');
    // The user channel is subscribed right after; send until it arrives.
    await waitUntil(async () => { await sdk.sendToUser('u-dora', 'notice', { text: 'hi dora' }); await new Promise((r) => setTimeout(r, 100)); return got.length > 0; }, 'the user event');
    check(got[0].text === 'hi dora', `got ${JSON.stringify(got)}`);
    a.push.disconnect();
  },
  async 'presence members and client events between two WASM clients'() {
    const a = client('alice');
    const b = client('bob');
    await a.connected();
    await b.connected();
    const added = [];
    const pa = a.sub('presence-node');
    pa.on('pusher:member_added', (m) => added.push(m));
    await a.subscribedTo('presence-node');
    const pb = b.sub('presence-node');
    await b.subscribedTo('presence-node');
    await waitUntil(() => added.length === 1, 'member_added');
    check(added[0].id === 'bob' && added[0].info.name === 'user bob', `added ${JSON.stringify(added)}`);
    check(pa.members.count === 2 && pb.members.count === 2, `counts ${pa.members.count} ${pb.members.count}`);
    check(pa.members.me.id === 'alice' && pb.members.me.id === 'bob', 'me');
    const ids = [];
    pb.members.each((m) => ids.push(m.id));
    check(ids.join() === 'alice,bob', `each ${ids}`);

    const got = [];
    a.sub('private-chat-node').on('client-msg', (d, meta) => got.push(d));
    const cb = b.sub('private-chat-node');
    cb.trigger('client-msg', { form_uid: 2, content: 'hello' }); // queued until subscribed
    await a.subscribedTo('private-chat-node');
    await waitUntil(() => got.length === 1, 'client event');
    check(got[0].content === 'hello', `client event ${JSON.stringify(got)}`);
    a.push.disconnect();
    b.push.disconnect();
  },
  async 'resume after a network cut: no loss, no duplicate, in order'() {
    const proxy = await startProxy();
    const c = client('carol', proxy.url);
    await c.connected();
    const got = [];
    c.sub('node-resume').on('n', (d, meta) => got.push({ d, seq: meta.seq }));
    await c.subscribedTo('node-resume');
    await trigger('node-resume', 'n', 'r0');
    await waitUntil(() => got.length === 1, 'r0');
    proxy.cut();
    await waitUntil(() => c.states.includes('disconnected'), 'disconnected');
    const want = Array.from({ length: 200 }, (_, i) => `r${i + 1}`);
    await triggerMany('node-resume', 'n', want, 1); // one at a time: the stream order is the array's
    proxy.restore();
    await waitUntil(() => got.length >= 201, `201 events, have ${got.length}`);
    await new Promise((r) => setTimeout(r, 200));
    check(got.length === 201, `got ${got.length} events, want 201`);
    check(got.map((e) => e.d).join() === ['r0', ...want].join(), 'events out of order or missing');
    for (let i = 1; i < got.length; i++) check(got[i].seq > got[i - 1].seq, `seq ${got[i].seq} after ${got[i - 1].seq}`);
    c.push.disconnect();
    proxy.close();
  },
};

globalThis.__pushWasmReady = async () => {
  let failed = 0;
  for (const [name, fn] of Object.entries(checks)) {
    const start = Date.now();
    try {
      await fn();
      console.log(`ok - ${name} (${Date.now() - start} ms)`);
    } catch (e) {
      failed++;
      console.log(`not ok - ${name}: ${e.stack || e}`);
    }
  }
  backend.close();
  console.log(failed ? `FAIL ${failed}` : 'PASS');
  // wasm_exec_node.js turns a clean exit with Go still running into a
  // deadlock report; push.wasm runs until the page goes, so drop that hook.
  process.removeAllListeners('exit');
  process.exit(failed ? 1 : 0);
};
