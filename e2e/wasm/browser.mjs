// The WASM client in headless Chromium, on webman/push's example page with
// the script tags swapped (pages/example.html), next to the same page on
// push.js and a pusher-js page; then the figures for docs/benchmarks.md.
// Run by e2e/wasm_test.go; prints "ok - …" per check, "METRIC …" lines and
// PASS or FAIL.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  channelAuth, env, pushdHTTP, pusherJSPath, readBody, requireBrowserDeps, sleep, startProxy, trigger, triggerMany, waitUntil, wsURL,
} from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const page = (name) => fs.readFileSync(path.join(here, 'pages', name), 'utf8');
const fill = (html, vars) => html.replace(/\{\{(\w+)\}\}/g, (_, k) => vars[k] ?? '');
const vars = { PUSHD: pushdHTTP, PUSHD_WS: wsURL, APP_KEY: env.key, WS_HOST: env.wsHost, WS_PORT: String(env.wsPort) };
const tags = {
  wasm: `<script src="${pushdHTTP}/push-wasm.js"></script>\n<script>var pushReady = PushWasm.load();</script>`,
  push: `<script src="${pushdHTTP}/plugin/webman/push/push.js"></script>\n<script>var pushReady = Promise.resolve();</script>`,
};

// The app's site: pages, pusher-js and webman/push's auth route.
const site = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (req.method === 'POST' && url.pathname === '/plugin/webman/push/auth') {
    const form = new URLSearchParams(await readBody(req));
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(channelAuth(form.get('socket_id'), form.get('channel_name'), url.searchParams.get('uid'))));
    return;
  }
  const html = (s) => { res.setHeader('Content-Type', 'text/html; charset=utf-8'); res.end(s); };
  switch (url.pathname) {
    case '/example-wasm.html': return html(fill(page('example.html'), { ...vars, CLIENT_TAGS: tags.wasm }));
    case '/example-push.html': return html(fill(page('example.html'), { ...vars, CLIENT_TAGS: tags.push }));
    case '/pusherjs.html': return html(fill(page('pusherjs.html'), vars));
    case '/bench.html': return html(fill(page('bench.html'), vars));
    case '/pusher.min.js':
      res.setHeader('Content-Type', 'text/javascript');
      return res.end(fs.readFileSync(pusherJSPath));
    case '/favicon.ico':
      res.statusCode = 204;
      return res.end();
    default:
      res.statusCode = 404;
      res.end();
  }
});
await new Promise((r) => site.listen(0, '127.0.0.1', r));
const siteURL = `http://127.0.0.1:${site.address().port}`;

const { chromium } = requireBrowserDeps('playwright-core');
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium', headless: true, timeout: 30000,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});

const opened = [];
// open loads a page in a fresh context (empty cache) and records its errors.
async function open(pathAndQuery) {
  const context = await browser.newContext();
  const p = await context.newPage();
  p.errors = [];
  p.on('pageerror', (e) => p.errors.push(String(e && e.stack ? e.stack : e)));
  // Chromium logs each refused WebSocket dial; those are expected while the
  // resume check holds the network down.
  p.on('console', (m) => {
    if (m.type() === 'error' && !/^WebSocket connection to .* failed/.test(m.text())) p.errors.push(`${m.text()} (${m.location().url})`);
  });
  p.setDefaultTimeout(15000);
  await p.goto(siteURL + pathAndQuery);
  opened.push(context);
  return p;
}
const R = (p, expr) => p.evaluate(`(function(){ var R = window.R, B = window.B; return ${expr}; })()`);
const check = (cond, what) => { if (!cond) throw new Error(what); };
const channelsOf = (uid) => [`user-${uid}`, `private-user-${uid}`, 'presence-group-1', 'private-chat', 'feed'];
async function ready(p, uid) {
  await waitUntil(() => R(p, `!!R.connected`), `${uid} connected`);
  for (const ch of channelsOf(uid)) await waitUntil(() => R(p, `R.subscribed[${JSON.stringify(ch)}] >= 1`), `${uid} subscribed to ${ch}`);
}

const proxy = await startProxy();
let alice; let bob; let carol;
const checks = {
  async 'webman example page on the WASM client: public event from the API'() {
    alice = await open(`/example-wasm.html?uid=alice&ws=${encodeURIComponent(proxy.url)}`);
    await ready(alice, 'alice');
    await trigger('user-alice', 'message', { text: 'hello alice' });
    await waitUntil(() => R(alice, `R.events.length >= 1`), 'public message');
    const ev = await R(alice, 'R.events[0]');
    check(ev.channel === 'user-alice' && ev.data.text === 'hello alice', `got ${JSON.stringify(ev)}`);
    const states = await R(alice, 'R.states.join()');
    check(states === 'connecting,connected', `states ${states}`);
  },
  async 'private channel through the real auth endpoint'() {
    await trigger('private-user-alice', 'message', 'only for alice');
    await waitUntil(() => R(alice, `R.events.length >= 2`), 'private message');
    const ev = await R(alice, 'R.events[1]');
    check(ev.channel === 'private-user-alice' && ev.data === 'only for alice', `got ${JSON.stringify(ev)}`);
  },
  async 'presence members with a push.js page and a pusher-js page joining'() {
    const m = await R(alice, 'R.members');
    check(m && m.count === 1 && m.me === 'alice' && m.ids.join() === 'alice', `members ${JSON.stringify(m)}`);
    bob = await open('/example-push.html?uid=bob'); // the same page on push.js
    await ready(bob, 'bob');
    await waitUntil(() => R(alice, `R.added.indexOf('bob') >= 0`), 'member_added bob');
    const count = await alice.evaluate(() => window.connection.channel('presence-group-1').members.count);
    check(count === 2, `members.count ${count}, want 2`);
  },
  async 'client events between the WASM page, the push.js page and a pusher-js page'() {
    carol = await open('/pusherjs.html?uid=carol');
    await waitUntil(() => R(carol, 'R.subscribed'), 'pusher-js subscribed');
    await bob.evaluate(() => window.sendChat('from push.js'));
    await carol.evaluate(() => window.sendChat('from pusher-js'));
    await alice.evaluate(() => window.sendChat('from wasm'));
    await waitUntil(() => R(alice, 'R.client.length >= 2'), 'client events at the WASM page');
    await waitUntil(() => R(bob, 'R.client.length >= 2'), 'client events at the push.js page');
    await waitUntil(() => R(carol, 'R.client.length >= 2'), 'client events at the pusher-js page');
    const at = async (p) => (await R(p, 'R.client.map(function (d) { return d.content; }).sort().join()'));
    check(await at(alice) === 'from push.js,from pusher-js', `wasm page got ${await at(alice)}`);
    check(await at(bob) === 'from pusher-js,from wasm', `push.js page got ${await at(bob)}`);
    check(await at(carol) === 'from push.js,from wasm', `pusher-js page got ${await at(carol)}`);
    const wasmGot = await R(alice, 'R.client.filter(function (d) { return d.content === "from push.js"; })[0]');
    check(wasmGot.form_uid === 'bob', `client event data ${JSON.stringify(wasmGot)}`);
  },
  async 'resume after a network cut: 300 events, none lost, doubled or reordered'() {
    await trigger('feed', 'n', 'f0');
    await waitUntil(() => R(alice, 'R.feed.length >= 1'), 'f0');
    proxy.cut();
    await waitUntil(() => R(alice, `R.states.indexOf('disconnected') >= 0`), 'the WASM page noticing the cut');
    const want = Array.from({ length: 300 }, (_, i) => `f${i + 1}`);
    await triggerMany('feed', 'n', want, 1);
    proxy.restore();
    await waitUntil(() => R(alice, 'R.feed.length >= 301'), 'the resumed events', 20000);
    await trigger('feed', 'n', 'live');
    await waitUntil(() => R(alice, 'R.feed.length >= 302'), 'a live event after the resume');
    const feed = await R(alice, 'R.feed');
    check(feed.length === 302, `got ${feed.length} events, want 302`);
    check(feed.map((e) => e.data).join() === ['f0', ...want, 'live'].join(), 'events lost, doubled or reordered');
    for (let i = 1; i < feed.length; i++) check(feed[i].seq > feed[i - 1].seq, `seq ${feed[i].seq} after ${feed[i - 1].seq}`);
    check((await R(alice, 'R.recovery.length')) === 0, 'recovery_failed on a resumable gap');
    check((await R(alice, 'R.subscribed.feed')) === 2, 'feed not subscribed again after the cut');
  },
  async 'no errors in any page'() {
    for (const p of [alice, bob, carol]) check(p.errors.length === 0, `page errors: ${p.errors.join('\n')}`);
  },
};

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// Figures: load-to-connected (cold, fresh context) for both clients, and the
// receive rate of the three clients on one page under the same load.
async function measure() {
  for (const kind of ['wasm', 'push']) {
    const nav = []; const fromLoad = [];
    for (let i = 0; i < 5; i++) {
      const p = await open(`/example-${kind}.html?uid=m${i}`);
      await waitUntil(() => R(p, '!!R.connected'), `${kind} connected`);
      nav.push(await R(p, 'R.connected'));
      fromLoad.push(await R(p, 'R.connected - R.start'));
      await p.context().close();
    }
    console.log(`METRIC load_to_connected client=${kind} navigation_ms=${median(nav).toFixed(0)} from_script_ms=${median(fromLoad).toFixed(0)} runs=${nav.map((x) => x.toFixed(0)).join('/')}`);
  }
  // live: events as the API delivers them; burst: the page's thread is
  // blocked while the events arrive, so the span after it is the clients'
  // own processing rate (the API and server no longer set the pace).
  const phases = [['', 'live'], ['', 'burst'], ['wasm', 'burst'], ['push.js', 'burst'], ['pusher-js', 'burst']];
  for (const [only, mode] of phases) {
    const names = only ? [only] : ['wasm', 'push.js', 'pusher-js'];
    const p = await open(`/bench.html?only=${only}`);
    const all = (cond) => names.map((n) => `B[${JSON.stringify(n)}] && B[${JSON.stringify(n)}].${cond}`).join(' && ');
    await waitUntil(() => R(p, all('subscribed')), 'bench subscriptions');
    const n = 5000;
    let blocked = Promise.resolve(true);
    if (mode === 'burst') {
      blocked = p.evaluate(() => { const end = performance.now() + 3000; while (performance.now() < end); return true; });
      await sleep(100);
    }
    const start = Date.now();
    await triggerMany('bench', 'n', Array.from({ length: n }, (_, i) => ({ i, text: 'event number ' + i })), 8);
    const sent = Date.now() - start;
    await blocked;
    check(mode !== 'burst' || sent < 2800, `triggering took ${sent} ms, longer than the page was blocked`);
    await waitUntil(() => R(p, all(`count >= ${n}`)), 'every client to get every event', 60000);
    for (const name of names) {
      const m = await R(p, `B[${JSON.stringify(name)}]`);
      console.log(`METRIC receive mode=${mode} page=${only || 'all-three'} client=${name} events=${m.count} span_ms=${(m.last - m.first).toFixed(0)} events_per_s=${((m.count - 1) / (m.last - m.first) * 1000).toFixed(0)} api_events_per_s=${(n / sent * 1000).toFixed(0)}`);
    }
    check(p.errors.length === 0, `bench page errors: ${p.errors.join('\n')}`);
    await p.context().close();
  }
}

let failed = 0;
for (const [name, fn] of Object.entries(checks)) {
  const start = Date.now();
  try {
    await fn();
    console.log(`ok - ${name} (${Date.now() - start} ms)`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e.stack || e}`);
    break;
  }
}
if (!failed) {
  try {
    await measure();
  } catch (e) {
    failed++;
    console.log(`not ok - measurements: ${e.stack || e}`);
  }
}
for (const c of opened) await c.close().catch(() => {});
await browser.close();
proxy.close();
site.close();
console.log(failed ? `FAIL ${failed}` : 'PASS');
process.exit(failed ? 1 : 0);
