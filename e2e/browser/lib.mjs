// Helpers for the browser and uni-app tests of Pushd's JavaScript clients.
//
// The Go harness (e2e/browser_test.go) starts pushd and runs `node --test`
// here with the server's addresses in the environment (as e2e/node does),
// plus PUSHD_CONTROL_DIR, where a test asks the harness to restart pushd.
// Everything talks to the real server on 127.0.0.1; nothing is mocked.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import Pusher from 'pusher';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run through the Go harness (cd e2e && go test -run Browser .)`);
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
  control: need('PUSHD_CONTROL_DIR'),
};

/** The WebSocket base URL as webman/push pages write it (no /app/...). */
export const wsURL = `ws://${env.wsHost}:${env.wsPort}`;
/** Where pushd serves the clients (its WebSocket port). */
export const assetBase = `http://${env.wsHost}:${env.wsPort}`;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let n = 0;
/** A channel-name-safe unique suffix. */
export function uniq(prefix) {
  n += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${n}`;
}

/** Polls fn until it returns a truthy value; rejects after ms naming what. */
export async function waitUntil(fn, what, ms = 5000) {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

const hmac = (s) => crypto.createHmac('sha256', env.secret).update(s, 'utf8').digest('hex');

/** Channel auth as the app's backend computes it (Pusher's socketAuth/presenceAuth). */
export function channelAuth(socketId, channel, channelData) {
  const sig = hmac(channelData === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${channelData}`);
  return `${env.key}:${sig}`;
}

/** The app's master key for private-encrypted- channels, random for each run. */
export const encryptionMasterKeyBase64 = crypto.randomBytes(32).toString('base64');

/**
 * The app's backend as Pusher's Node SDK (pusher 5) on pushd's HTTP API,
 * holding masterKeyBase64: it authorizes channels (with shared_secret for
 * private-encrypted- ones) and triggers, encrypting for encrypted channels.
 */
export function backendSDK(masterKeyBase64 = encryptionMasterKeyBase64) {
  return new Pusher({
    appId: env.appId, key: env.key, secret: env.secret, host: env.apiHost, port: env.apiPort, useTLS: false, timeout: 8000,
    encryptionMasterKeyBase64: masterKeyBase64,
  });
}

/** The backend with the run's master key. */
export const backend = backendSDK();

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/** Triggers an event through the signed HTTP API; data objects are JSON-encoded. */
export function trigger(channel, name, data, socketId) {
  const payload = { name, channel, data: typeof data === 'string' ? data : JSON.stringify(data) };
  if (socketId) payload.socket_id = socketId;
  const body = JSON.stringify(payload);
  const p = `/apps/${env.appId}/events`;
  const params = {
    auth_key: env.key,
    auth_timestamp: String(Math.floor(Date.now() / 1000)),
    auth_version: '1.0',
    body_md5: crypto.createHash('md5').update(body).digest('hex'),
  };
  const query = Object.keys(params).sort().map((k) => `${k}=${params[k]}`).join('&');
  const sig = hmac(`POST\n${p}\n${query}`);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: env.apiHost, port: env.apiPort, method: 'POST', path: `${p}?${query}&auth_signature=${sig}`, agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 8000 },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`trigger: ${res.statusCode} ${text}`))));
      },
    );
    req.on('timeout', () => req.destroy(new Error('trigger timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Asks the Go harness to restart pushd (same ports and data) and waits for it. */
export async function restartServer() {
  await askRestart('');
}

/** Asks the Go harness to restart pushd with its data wiped (an event store reset) and waits for it. */
export async function resetServer() {
  await askRestart('reset:');
}

async function askRestart(kind) {
  const id = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  fs.writeFileSync(path.join(env.control, `restart.req.tmp`), kind + id);
  fs.renameSync(path.join(env.control, `restart.req.tmp`), path.join(env.control, 'restart.req'));
  const done = path.join(env.control, `restart.done.${id}`);
  await waitUntil(() => fs.existsSync(done), 'the harness to restart pushd', 40000);
}

/** The default answer of the site's auth endpoint (see startSite). */
function siteAuth(channel, socketId, query) {
  if (channel.startsWith('presence-')) {
    const user = query.get('user') ?? 'anon';
    const channelData = JSON.stringify({ user_id: user, user_info: { name: `User ${user}` } });
    return { auth: channelAuth(socketId, channel, channelData), channel_data: channelData };
  }
  if (channel.startsWith('private-encrypted-')) return backend.authorizeChannel(socketId, channel);
  return { auth: channelAuth(socketId, channel) };
}

const mime = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml' };

/**
 * The app's web server: pages registered with page(), static directories
 * with dir(), and a real auth endpoint at POST /auth signing with the app
 * secret. /auth?user=ID answers presence channels with user ID; channels
 * whose name contains "forbidden" get 403 Forbidden, as webman's backend does;
 * private-encrypted- channels are answered by the Pusher SDK (backend), with
 * their shared_secret. authorize({channel, socketId, query}), when given,
 * answers first: an object is the answer, undefined leaves it to the above.
 */
export async function startSite({ authorize } = {}) {
  const pages = new Map();
  const dirs = [];
  const authRequests = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'POST' && url.pathname === '/auth') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const r = { headers: req.headers, form: Object.fromEntries(form), query: Object.fromEntries(url.searchParams) };
        authRequests.push(r);
        const channel = form.get('channel_name') ?? '';
        const socketId = form.get('socket_id') ?? '';
        if (channel.includes('forbidden') || !socketId) {
          res.writeHead(403, { 'content-type': 'text/plain' });
          res.end('Forbidden');
          return;
        }
        let answer;
        try {
          answer = authorize?.({ channel, socketId, query: url.searchParams }) ?? siteAuth(channel, socketId, url.searchParams);
        } catch (e) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(e));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
      return;
    }
    if (pages.has(url.pathname)) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(pages.get(url.pathname));
      return;
    }
    for (const d of dirs) {
      if (!url.pathname.startsWith(d.prefix)) continue;
      let rel = url.pathname.slice(d.prefix.length) || 'index.html';
      const file = path.join(d.dir, path.normalize(rel).replace(/^(\.\.[/\\])+/, ''));
      if (fs.existsSync(file) && fs.statSync(file).isFile()) {
        res.writeHead(200, { 'content-type': mime[path.extname(file)] ?? 'application/octet-stream' });
        res.end(fs.readFileSync(file));
        return;
      }
    }
    res.writeHead(404);
    res.end('not found');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  let pageN = 0;
  return {
    base,
    authRequests,
    /** Serves html at a new path and returns its URL. */
    page(html) {
      pageN += 1;
      const p = `/page/${pageN}`;
      pages.set(p, html);
      return base + p;
    },
    dir(prefix, dir) {
      dirs.push({ prefix, dir });
      return base + prefix;
    },
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

/**
 * A TCP proxy in front of pushd's WebSocket port whose link can be cut:
 * cut() drops every connection and refuses new ones until heal(). With
 * hold, a connection opened while cut is held unanswered until heal()
 * instead, as a connect attempt hangs while packets are dropped (pusher-js
 * waits 15 s before it tries again after a refused attempt); cutFor(ms)
 * heals by itself.
 */
export async function startProxy({ hold = false } = {}) {
  const socks = new Set();
  let held = [];
  let down = false;
  let healTimer = null;
  const forward = (client) => {
    const upstream = net.connect(env.wsPort, env.wsHost);
    const pair = [client, upstream];
    for (const s of pair) {
      socks.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        socks.delete(s);
        for (const o of pair) o.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  };
  const server = net.createServer((client) => {
    if (down && hold) {
      client.pause();
      client.on('error', () => {});
      held.push(client);
      return;
    }
    if (down) {
      client.destroy();
      return;
    }
    forward(client);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const proxy = {
    url: `ws://127.0.0.1:${server.address().port}`,
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
      down = true;
      hold = false;
      for (const s of [...socks, ...held]) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
  return proxy;
}

/** Launches Debian's chromium headless with a fresh temporary profile. */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    timeout: 30000,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
    ],
  });
}

/**
 * Opens url in a new browser context and records uncaught page errors
 * (page.errors) and the WebSockets the page opens (page.sockets).
 */
export async function openPage(browser, url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.errors = [];
  page.sockets = [];
  page.on('pageerror', (e) => page.errors.push(String(e && e.stack ? e.stack : e)));
  page.on('websocket', (ws) => page.sockets.push(ws));
  page.setDefaultTimeout(10000);
  await page.goto(url);
  page.closeAll = () => context.close();
  return page;
}

/** A page written as webman/push's documentation shows, plus the test's script. */
export function webmanPage({ script, src = `${assetBase}/push.js`, title = 'push.js test' }) {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title>
<script src="${src}"></script>
</head><body>
<script>
${script}
</script>
</body></html>`;
}
