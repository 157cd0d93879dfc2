// Helpers shared by the pusher-js / pusher SDK end-to-end tests.
//
// The Go harness (e2e/harness_test.go, runNode) starts a pushd server and
// runs `node --test` here with the server's addresses and the test apps'
// credentials in the environment. Everything below talks to that server
// only (127.0.0.1); nothing is mocked.
//
// Note: `import Pusher from 'pusher-js'` is the Node build, which already
// bundles tweetnacl and supports private-encrypted- channels. The
// 'pusher-js/with-encryption' entry point is the *web* build and does not
// load under Node ("self is not defined").

import crypto from 'node:crypto';
import net from 'node:net';
import assert from 'node:assert/strict';
import { after } from 'node:test';
import Pusher from 'pusher-js';
import PusherServer from 'pusher';

// ---------------------------------------------------------------- env

function need(name) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    throw new Error(
      `environment variable ${name} is not set: run these tests through the Go harness ` +
        '(cd e2e && go test -run PusherJS ./...)',
    );
  }
  return v;
}

export const env = {
  wsHost: need('PUSHD_WS_HOST'),
  wsPort: Number(need('PUSHD_WS_PORT')),
  apiHost: need('PUSHD_API_HOST'),
  apiPort: Number(need('PUSHD_API_PORT')),
};

export const apiBase = `http://${env.apiHost}:${env.apiPort}`;

/** The apps of the test server (see testApps in e2e/harness_test.go). */
export const apps = {
  main: { id: need('APP_ID'), key: need('APP_KEY'), secret: need('APP_SECRET') },
  // configured without an id: any /apps/{id}/... works (webman uses 1024)
  noid: { id: '1024', key: need('NOID_KEY'), secret: need('NOID_SECRET') },
  noclient: { id: need('NOCLIENT_ID'), key: need('NOCLIENT_KEY'), secret: need('NOCLIENT_SECRET') },
  off: { id: need('OFF_ID'), key: need('OFF_KEY'), secret: need('OFF_SECRET') },
  small: { id: need('SMALL_ID'), key: need('SMALL_KEY'), secret: need('SMALL_SECRET') },
};

/** A fixed 32-byte master key for encrypted channels (base64). */
export const ENCRYPTION_MASTER_KEY_BASE64 = Buffer.alloc(32, 7).toString('base64');

// ---------------------------------------------------------------- misc

let seq = 0;
/** A channel-name-safe unique string: prefix-<pid>-<time>-<n>. */
export function uniq(prefix = 't') {
  seq += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${seq}`;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The code of an error as pusher-js emits it on pusher.connection 'error':
 *  {type:'PusherError', data:{code,message}} for a pusher:error frame or a
 *  close code, {type:'WebSocketError', error:{type:'PusherError', data:{code}}}
 *  when a handshake or close leads to an action (refused/backoff/retry). */
export function errorCode(err) {
  if (!err || typeof err !== 'object') return undefined;
  return err.data?.code ?? err.error?.data?.code ?? err.error?.code ?? err.code;
}

// ---------------------------------------------------------------- waits

const MAX_WAIT = 10000;

function deadline(ms) {
  return Math.min(ms ?? 5000, MAX_WAIT);
}

/** Resolves when predicate() is truthy (polled every 20 ms); rejects after
 *  timeoutMs with a message naming what was awaited. */
export async function waitUntil(predicate, what = 'condition', timeoutMs = 5000) {
  const limit = deadline(timeoutMs);
  const start = Date.now();
  for (;;) {
    const v = await predicate();
    if (v) return v;
    if (Date.now() - start >= limit) {
      throw new Error(`timed out after ${limit} ms waiting for ${what}`);
    }
    await sleep(20);
  }
}

/** Resolves with the data of the next `eventName` emitted by a pusher-js
 *  dispatcher (client, channel, connection or user) for which filter(data)
 *  is true; rejects after timeoutMs. */
export function waitForEvent(emitter, eventName, timeoutMs = 5000, filter = () => true) {
  const limit = deadline(timeoutMs);
  return new Promise((resolve, reject) => {
    const onEvent = (data) => {
      if (!filter(data)) return;
      clearTimeout(timer);
      emitter.unbind(eventName, onEvent);
      resolve(data);
    };
    const timer = setTimeout(() => {
      emitter.unbind(eventName, onEvent);
      reject(new Error(`timed out after ${limit} ms waiting for event '${eventName}'`));
    }, limit);
    emitter.bind(eventName, onEvent);
  });
}

/** Re-runs fn() until accept(result) holds and resolves with that result;
 *  rejects after timeoutMs showing the last result. For values the server
 *  computes asynchronously (subscriber counts and occupancy go through the
 *  presence tracker and are flushed every ~50 ms). */
export async function eventually(fn, accept, what = 'result', timeoutMs = 3000) {
  const limit = deadline(timeoutMs);
  const start = Date.now();
  let last;
  for (;;) {
    last = await fn();
    if (accept(last)) return last;
    if (Date.now() - start >= limit) {
      throw new Error(`timed out after ${limit} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    }
    await sleep(50);
  }
}

/** waitFor(emitter, eventName, ms) or waitFor(predicate, ms[, what]). */
export function waitFor(emitterOrPredicate, a, b, c) {
  if (typeof emitterOrPredicate === 'function') {
    return waitUntil(emitterOrPredicate, c ?? b ?? 'predicate', typeof a === 'number' ? a : 5000);
  }
  return waitForEvent(emitterOrPredicate, a, b, c);
}

/** Starts recording every `eventName` of a dispatcher; returns the array. */
export function collect(emitter, eventName) {
  const got = [];
  emitter.bind(eventName, (data) => got.push(data));
  return got;
}

// ---------------------------------------------------------------- clients

const liveClients = new Set();

/** A pusher `SDK` client for an app (HTTP API on PUSHD_API_*). */
export function sdk(app = apps.main, extra = {}) {
  return new PusherServer({
    appId: String(app.id),
    key: app.key,
    secret: app.secret,
    host: env.apiHost,
    port: env.apiPort,
    useTLS: false,
    timeout: 8000,
    encryptionMasterKeyBase64: ENCRYPTION_MASTER_KEY_BASE64,
    ...extra,
  });
}

/** A pusher-js client for an app key. Channel authorization and user
 *  authentication are signed in-process with the `pusher` SDK's
 *  authorizeChannel / authenticateUser (customHandler, no HTTP auth server).
 *
 *  options:
 *   - user: user data object for signin (default {id: 'u-<n>'})
 *   - authSecret / authKey: sign with another secret/key (to produce bad
 *     signatures)
 *   - channelAuth(params) -> authData: override channel authorization
 *   - userAuth(params) -> authData: override user authentication
 *   - pusherOptions: extra pusher-js options
 *
 *  The returned client records connection errors in client.errors and state
 *  changes in client.states. Every client is disconnected by closeAll(),
 *  which each test file calls in an after() hook (registered below). */
export function client(app = apps.main, options = {}) {
  const signer = sdk(
    { ...app, key: options.authKey ?? app.key, secret: options.authSecret ?? app.secret },
    {},
  );
  const user = options.user ?? { id: uniq('u') };
  const p = new Pusher(app.key, {
    cluster: 'mt1',
    wsHost: env.wsHost,
    wsPort: env.wsPort,
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: {
      customHandler: (params, callback) => {
        try {
          const data = options.channelAuth
            ? options.channelAuth(params)
            : params.channelName.startsWith('presence-')
              ? signer.authorizeChannel(params.socketId, params.channelName, {
                  user_id: user.id,
                  user_info: user.user_info ?? {},
                })
              : signer.authorizeChannel(params.socketId, params.channelName);
          callback(null, data);
        } catch (e) {
          callback(e, null);
        }
      },
    },
    userAuthentication: {
      customHandler: (params, callback) => {
        try {
          const data = options.userAuth
            ? options.userAuth(params)
            : signer.authenticateUser(params.socketId, user);
          callback(null, data);
        } catch (e) {
          callback(e, null);
        }
      },
    },
    ...(options.pusherOptions ?? {}),
  });
  p.errors = [];
  p.states = [];
  p.sockets = [];
  p.connection.bind('error', (err) => p.errors.push(err));
  p.connection.bind('state_change', (s) => {
    p.states.push(s.current);
    const sock = p.connection.connection?.transport?.socket;
    if (s.current === 'connected' && sock) p.sockets.push(sock);
  });
  p.userData = user;
  liveClients.add(p);
  return p;
}

/** Resolves when the client is connected; rejects when it ends in
 *  disconnected/failed/unavailable first or after timeoutMs. */
export function connected(p, timeoutMs = 5000) {
  const limit = deadline(timeoutMs);
  if (p.connection.state === 'connected') return Promise.resolve(p);
  return new Promise((resolve, reject) => {
    const done = (err) => {
      clearTimeout(timer);
      p.connection.unbind('state_change', onState);
      if (err) reject(err);
      else resolve(p);
    };
    const onState = ({ current }) => {
      if (current === 'connected') done();
      else if (current === 'disconnected' || current === 'failed' || current === 'unavailable') {
        done(
          new Error(
            `client ${p.key} went ${current} instead of connected; errors: ${JSON.stringify(p.errors)}`,
          ),
        );
      }
    };
    const timer = setTimeout(
      () =>
        done(
          new Error(
            `timed out after ${limit} ms waiting for ${p.key} to connect (state ${p.connection.state}; errors: ${JSON.stringify(p.errors)})`,
          ),
        ),
      limit,
    );
    p.connection.bind('state_change', onState);
  });
}

/** A connected client (see client()). */
export async function connect(app = apps.main, options = {}) {
  const p = client(app, options);
  await connected(p);
  return p;
}

/** Subscribes and resolves with the channel after subscription_succeeded;
 *  rejects with the subscription_error data or on timeout. */
export function subscribe(p, name, timeoutMs = 5000) {
  const limit = deadline(timeoutMs);
  const ch = p.subscribe(name);
  if (ch.subscribed) return Promise.resolve(ch);
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      ch.unbind('pusher:subscription_succeeded', ok);
      ch.unbind('pusher:subscription_error', bad);
    };
    const ok = () => {
      cleanup();
      resolve(ch);
    };
    const bad = (err) => {
      cleanup();
      const e = new Error(`subscription to ${name} failed: ${JSON.stringify(err)}`);
      e.subscriptionError = err;
      reject(e);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${limit} ms waiting for subscription to ${name}`));
    }, limit);
    ch.bind('pusher:subscription_succeeded', ok);
    ch.bind('pusher:subscription_error', bad);
  });
}

/** Subscribes and resolves with the pusher:subscription_error data; rejects
 *  if the subscription succeeds or nothing arrives in time. */
export async function subscribeError(p, name, timeoutMs = 5000) {
  try {
    await subscribe(p, name, timeoutMs);
  } catch (e) {
    if (e.subscriptionError) return e.subscriptionError;
    throw e;
  }
  throw new Error(`subscription to ${name} succeeded, expected pusher:subscription_error`);
}

/** Records the text of every frame the connected client receives from now
 *  on (pusher-js's transport 'message' event). Returns {frames, stop}. */
export function rawFrames(p) {
  const frames = [];
  const transport = p.connection.connection?.transport;
  if (!transport) throw new Error('rawFrames: client is not connected');
  const onMsg = (m) => frames.push(m.data);
  transport.bind('message', onMsg);
  return { frames, stop: () => transport.unbind('message', onMsg) };
}

/** Records every decoded frame (PusherEvent {event, channel, data}) the
 *  client receives from now on, including those for channels pusher-js
 *  does not know. */
export function frames(p) {
  const got = [];
  p.connection.bind('message', (ev) => got.push(ev));
  return got;
}

/** Sends a raw frame on the client's connection. */
export function sendRaw(p, obj) {
  const ok = p.connection.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  if (!ok) throw new Error('sendRaw: client is not connected');
}

/** Waits for a decoded frame matching pred in a frames() array. */
export function waitForFrame(got, pred, what = 'frame', timeoutMs = 5000) {
  return waitUntil(() => got.find(pred), `${what} (frames so far: ${JSON.stringify(got).slice(0, 2000)})`, timeoutMs);
}

/** Waits until the client reports a connection error with this code. */
export function waitForErrorCode(p, code, timeoutMs = 5000) {
  return waitUntil(
    () => p.errors.find((e) => errorCode(e) === code),
    `error code ${code} on ${p.key} (errors so far: ${JSON.stringify(p.errors)})`,
    timeoutMs,
  );
}

/** Disconnects a client and makes sure its sockets are really gone, so
 *  node can exit. Two faye-websocket (pusher-js's Node transport) quirks:
 *  it waits up to 30 s for the server's close frame, and when pusher-js
 *  calls close() on a socket the server already closed (close code
 *  4000-4099 after connecting, e.g. 4009), faye arms a 30 s timer that is
 *  never cleared. */
export async function close(p) {
  if (!liveClients.has(p)) return;
  liveClients.delete(p);
  try {
    p.disconnect();
  } catch {
    // already gone
  }
  for (const sock of p.sockets) {
    const start = Date.now();
    while (sock.readyState !== 3 && Date.now() - start < 1500) await sleep(20);
    try {
      if (sock.readyState !== 3) {
        sock._stream?.destroy();
        sock._finalizeClose?.();
      }
      if (sock._closeTimer) clearTimeout(sock._closeTimer);
    } catch {
      // best effort
    }
  }
}

export async function closeAll() {
  await Promise.all([...liveClients].map((p) => close(p)));
}

// every test file that imports this module disconnects its clients at the end
after(closeAll);

// ---------------------------------------------------------------- HTTP API

/** Lower-cased, sorted k=v joined with & (values not URL-escaped) — the
 *  Pusher string-to-sign query part. */
function canonicalQuery(params) {
  return Object.entries(params)
    .filter(([k]) => k.toLowerCase() !== 'auth_signature')
    .map(([k, v]) => [k.toLowerCase(), String(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

export const md5hex = (s) => crypto.createHash('md5').update(s, 'utf8').digest('hex');
export const hmacHex = (secret, s) => crypto.createHmac('sha256', secret).update(s, 'utf8').digest('hex');

/** Pusher HTTP API signature of a request. */
export function signRequest(method, path, params, secret) {
  const toSign = `${method.toUpperCase()}\n${path}\n${canonicalQuery(params)}`;
  return hmacHex(secret, toSign);
}

/** Sends a signed request with fetch, giving full control over every
 *  signing input. Returns {status, text, json}.
 *
 *  opts: method, path (full, e.g. /apps/1/events), body (object or string),
 *  query (extra params), app ({key, secret}), timestamp, bodyMd5 (override),
 *  secret (override signing secret), signature (override), omitSignature,
 *  signMethod / signPath (sign as if for another method or path) */
export async function signedFetch(opts) {
  const method = (opts.method ?? 'GET').toUpperCase();
  const app = opts.app ?? apps.main;
  const body =
    opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const params = {
    auth_key: app.key,
    auth_timestamp: opts.timestamp ?? Math.floor(Date.now() / 1000),
    auth_version: '1.0',
    ...(opts.query ?? {}),
  };
  if (body !== undefined) params.body_md5 = opts.bodyMd5 ?? md5hex(body);
  const sig =
    opts.signature ??
    signRequest(opts.signMethod ?? method, opts.signPath ?? opts.path, params, opts.secret ?? app.secret);
  const search = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  if (!opts.omitSignature) search.set('auth_signature', sig);
  const res = await fetch(`${apiBase}${opts.path}?${search}`, {
    method,
    body,
    headers: body !== undefined ? { 'content-type': 'application/json' } : {},
    signal: AbortSignal.timeout(8000),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

/** Runs an SDK call that must fail; resolves with {status, body, json}. */
export async function sdkError(promise) {
  let res;
  try {
    res = await promise;
  } catch (e) {
    if (e.status === undefined) throw e; // network error etc.
    let json;
    try {
      json = JSON.parse(e.body);
    } catch {
      json = undefined;
    }
    return { status: e.status, body: e.body, json };
  }
  throw new Error(`request succeeded with ${res.status}, expected an error status`);
}

// ---------------------------------------------------------------- network cuts

/** A TCP proxy on 127.0.0.1 in front of pushd's WebSocket port (or
 *  target), owned by the test, that plays a network going down: cut()
 *  closes every connection through it, and a connection opened while it is
 *  cut hangs (held, unanswered) until heal(), as a connect attempt does
 *  while packets are dropped; cutFor(ms) heals by itself. Give a client
 *  {pusherOptions: {wsPort: proxy.port}}. Closed after the file's tests.
 *  With stripSeq, Pushd's "seq" is removed from every frame the server
 *  sends, so that pushd looks like a Pusher-compatible server without the
 *  resume extension. */
export async function startProxy({ target = { host: env.wsHost, port: env.wsPort }, stripSeq = false } = {}) {
  const socks = new Set();
  let held = [];
  let down = false;
  let closed = false;
  let healTimer = null;
  const forward = (c) => {
    const upstream = net.connect(target.port, target.host);
    const pair = [c, upstream];
    for (const s of pair) {
      socks.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        socks.delete(s);
        for (const o of pair) o.destroy();
      });
    }
    c.pipe(upstream);
    if (stripSeq) upstream.on('data', seqStripper((b) => c.write(b)));
    else upstream.pipe(c);
    c.resume();
  };
  const server = net.createServer((c) => {
    if (closed) {
      c.destroy();
      return;
    }
    if (down) {
      c.pause();
      c.on('error', () => {});
      held.push(c);
      return;
    }
    forward(c);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy = {
    port: server.address().port,
    cut() {
      down = true;
      for (const s of socks) s.destroy();
    },
    heal() {
      clearTimeout(healTimer);
      down = false;
      const waiting = held;
      held = [];
      for (const c of waiting) if (!c.destroyed) forward(c);
    },
    cutFor(ms) {
      proxy.cut();
      healTimer = setTimeout(proxy.heal, ms);
    },
    close() {
      clearTimeout(healTimer);
      closed = true;
      for (const s of [...socks, ...held]) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  liveProxies.add(proxy);
  return proxy;
}

const liveProxies = new Set();

/** Returns a handler of the server's bytes that passes the HTTP response
 *  head on and then re-frames each WebSocket text frame without its
 *  top-level "seq" (Pushd appends it last: ,"seq":N}). The server sends
 *  unmasked, unfragmented, uncompressed frames. */
function seqStripper(write) {
  let buf = Buffer.alloc(0);
  let head = true;
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    if (head) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      write(buf.subarray(0, end + 4));
      buf = buf.subarray(end + 4);
      head = false;
    }
    for (;;) {
      if (buf.length < 2) return;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        off = 10;
      }
      if (buf.length < off + len) return;
      const first = buf[0];
      let payload = buf.subarray(off, off + len);
      buf = buf.subarray(off + len);
      if ((first & 0x0f) === 1) payload = Buffer.from(payload.toString('utf8').replace(/,"seq":\d+\}$/, '}'));
      let hdr;
      if (payload.length < 126) hdr = Buffer.from([first, payload.length]);
      else if (payload.length < 65536) {
        hdr = Buffer.alloc(4);
        hdr[0] = first;
        hdr[1] = 126;
        hdr.writeUInt16BE(payload.length, 2);
      } else {
        hdr = Buffer.alloc(10);
        hdr[0] = first;
        hdr[1] = 127;
        hdr.writeBigUInt64BE(BigInt(payload.length), 2);
      }
      write(Buffer.concat([hdr, payload]));
    }
  };
}
after(() => Promise.all([...liveProxies].map((p) => p.close())));

// ---------------------------------------------------------------- resume

/** Triggers events {n: 0..count-1} named name on channel, rate a second in
 *  batches of 10, one request after the other so that the stream keeps
 *  their order. */
export async function flow(api, channel, count, rate, name = 'n') {
  const start = Date.now();
  for (let i = 0; i < count; i += 10) {
    const wait = start + (i / rate) * 1000 - Date.now();
    if (wait > 0) await sleep(wait);
    const batch = [];
    for (let j = i; j < Math.min(i + 10, count); j++) batch.push({ channel, name, data: { n: j } });
    await api.triggerBatch(batch);
  }
}

/** Fails unless got is exactly 0..count-1, naming the first problem. */
export function assertAllInOrder(got, count, what) {
  const seen = new Set();
  for (let i = 0; i < got.length; i++) {
    assert.ok(!seen.has(got[i]), `${what}: event ${got[i]} arrived twice (at ${i})`);
    seen.add(got[i]);
    assert.equal(got[i], i, `${what}: event ${got[i]} arrived at position ${i}: out of order or one missing`);
  }
  assert.equal(got.length, count, `${what}: ${got.length} events, want ${count}`);
}

/** Records what the client's connection sends (after pushd-resume's
 *  wrapper): [{name, data}]. */
export function sent(p) {
  const out = [];
  const orig = p.connection.send_event.bind(p.connection);
  p.connection.send_event = (name, data, channel) => {
    out.push({ name, data: JSON.parse(JSON.stringify(data ?? null)) });
    return orig(name, data, channel);
  };
  return out;
}

/** Cuts the link for cutMs once cutAfter events arrived, while count
 *  events flow at rate; waits for the client to come back on a new socket
 *  and for count events; resolves with how long after the cut it was
 *  back (ms) and its socket id before. */
export async function cutDuringFlow({ p, proxy, api, channel, count, rate, got, cutAfter = 100, cutMs }) {
  const sending = flow(api, channel, count, rate);
  await waitUntil(() => got.length >= cutAfter, `${cutAfter} events before the cut`, 5000);
  const before = p.connection.socket_id;
  proxy.cutFor(cutMs);
  const cutAt = Date.now();
  // pusher-js drops the connection at once and says 'connecting' a second later
  await waitUntil(() => !p.connection.connection || p.connection.state !== 'connected', 'the client to notice the cut', 3000);
  await sending;
  await waitUntil(() => p.connection.state === 'connected' && p.connection.socket_id !== before,
    'the client to connect again after the cut', 10000);
  const back = Date.now() - cutAt;
  await waitUntil(() => got.length >= count, `all ${count} events (have ${got.length})`, 10000);
  await sleep(300); // a duplicate or a stray event would show up here
  return { back, socketBefore: before };
}

export { Pusher, PusherServer };
