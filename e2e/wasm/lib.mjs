// Helpers of the WASM client's Node and browser checks. The Go harness
// (e2e/wasm_test.go) starts pushd and runs these scripts with its addresses
// in the environment; everything talks to the real server on 127.0.0.1.

import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run through the Go harness (go test -run Wasm ./e2e)`);
  return v;
}

export const env = {
  wsHost: need('PUSHD_WS_HOST'),
  wsPort: Number(need('PUSHD_WS_PORT')),
  apiHost: need('PUSHD_API_HOST'),
  apiPort: Number(need('PUSHD_API_PORT')),
  appId: need('APP_ID'),
  key: need('APP_KEY'),
  secret: need('APP_SECRET'),
};
export const wsURL = `ws://${env.wsHost}:${env.wsPort}`;
export const pushdHTTP = `http://${env.wsHost}:${env.wsPort}`;

// playwright-core and ws come from e2e/browser's node_modules (npm ci there).
export const requireBrowserDeps = createRequire(path.join(here, '..', 'browser', 'package.json'));
// pusher-js and the pusher server SDK come from e2e/node's node_modules.
export const requireNodeDeps = createRequire(path.join(here, '..', 'node', 'package.json'));
export const pusherJSPath = path.join(here, '..', 'node', 'node_modules', 'pusher-js', 'dist', 'web', 'pusher.min.js');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until truthy; throws naming what after ms. */
export async function waitUntil(fn, what, ms = 10000) {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

const hmac = (s) => crypto.createHmac('sha256', env.secret).update(s, 'utf8').digest('hex');

/** The answer of an app backend's auth route: channel auth, with presence data for presence- channels. */
export function channelAuth(socketId, channel, uid) {
  if (channel.startsWith('presence-')) {
    const channelData = JSON.stringify({ user_id: uid, user_info: { name: 'user ' + uid } });
    return { auth: `${env.key}:${hmac(`${socketId}:${channel}:${channelData}`)}`, channel_data: channelData };
  }
  return { auth: `${env.key}:${hmac(`${socketId}:${channel}`)}` };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** Sends a signed API request; resolves with the parsed answer, rejects unless 200. */
export function api(p, payload) {
  const body = JSON.stringify(payload);
  const params = {
    auth_key: env.key,
    auth_timestamp: String(Math.floor(Date.now() / 1000)),
    auth_version: '1.0',
    body_md5: crypto.createHash('md5').update(body).digest('hex'),
  };
  const query = Object.keys(params).sort().map((k) => `${k}=${params[k]}`).join('&');
  const sig = hmac(`POST\n${p}\n${query}`);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: env.apiHost, port: env.apiPort, method: 'POST', agent,
      path: `${p}?${query}&auth_signature=${sig}`, headers: { 'Content-Type': 'application/json' },
    }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`POST ${p}: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Triggers one event; object data is JSON-encoded as the SDKs do. */
export function trigger(channel, name, data, socketId) {
  const ev = { name, channel, data: typeof data === 'string' ? data : JSON.stringify(data) };
  if (socketId) ev.socket_id = socketId;
  return api(`/apps/${env.appId}/events`, ev);
}

/** Triggers many events, 10 per batch_events call, `parallel` calls at a time. */
export async function triggerMany(channel, name, datas, parallel = 4) {
  const batches = [];
  for (let i = 0; i < datas.length; i += 10) {
    batches.push(datas.slice(i, i + 10).map((d) => ({ channel, name, data: typeof d === 'string' ? d : JSON.stringify(d) })));
  }
  let next = 0;
  async function worker() {
    while (next < batches.length) {
      const b = batches[next++];
      await api(`/apps/${env.appId}/batch_events`, { batch: b });
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** Reads a form or JSON request body. */
export function readBody(req) {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (c) => { text += c; });
    req.on('end', () => resolve(text));
  });
}

/**
 * A TCP proxy to pushd's WebSocket port, so a test can cut the network
 * under a client: cut() drops every connection and refuses new ones until
 * restore().
 */
export function startProxy() {
  const socks = new Set();
  let down = false;
  const server = net.createServer((client) => {
    if (down) { client.destroy(); return; }
    const upstream = net.connect(env.wsPort, env.wsHost);
    socks.add(client); socks.add(upstream);
    client.pipe(upstream); upstream.pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); socks.delete(client); socks.delete(upstream); };
    client.on('error', end); upstream.on('error', end); client.on('close', end); upstream.on('close', end);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `ws://127.0.0.1:${server.address().port}`,
    cut() { down = true; for (const s of socks) s.destroy(); socks.clear(); },
    restore() { down = false; },
    close() { for (const s of socks) s.destroy(); server.close(); },
  })));
}
