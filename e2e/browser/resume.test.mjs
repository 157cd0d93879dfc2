// pushd-resume in headless Chromium with the browser builds of pusher-js 8
// (pusher.min.js) and Laravel Echo 2 (echo.iife.js), pushd-resume loaded
// from pushd itself (/pushd-resume.mjs as an ES module, /pushd-resume.umd.js
// as a script). The page's link goes through a TCP proxy the test owns:
// cut for 5 s while 1,000 events flow at 200/s, every event arrives, in
// order, once.

import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { assetBase, backend, env, launchChromium, openPage, sleep, startProxy, startSite, uniq, waitUntil } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
let browser;
let site;
const pages = [];

before(async () => {
  browser = await launchChromium();
  site = await startSite();
  site.dir('/vendor/pusher-js/', path.join(here, 'node_modules/pusher-js/dist/web'));
  site.dir('/vendor/laravel-echo/', path.join(here, 'node_modules/laravel-echo/dist'));
});
after(async () => {
  for (const p of pages) await p.closeAll().catch(() => {});
  await browser?.close();
  await site?.close();
});

const T = (page, expr) => page.evaluate(`(function(){ return ${expr}; })()`);

// recorder is the page's T: what it received and when it was subscribed.
const recorder = `window.T = { got: [], failed: [], subscribed: 0, errors: [] };`;

async function open(head, script) {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>pushd-resume</title>
${head}
</head><body>
${script}
</body></html>`;
  const page = await openPage(browser, site.page(html));
  pages.push(page);
  return page;
}

/** Triggers {n: 0..count-1} on channel at rate a second, in batches of 10,
 *  one request after the other (the stream keeps their order). */
async function flow(channel, count, rate) {
  const start = Date.now();
  for (let i = 0; i < count; i += 10) {
    const wait = start + (i / rate) * 1000 - Date.now();
    if (wait > 0) await sleep(wait);
    const batch = [];
    for (let j = i; j < Math.min(i + 10, count); j++) batch.push({ channel, name: 'n', data: { n: j } });
    await backend.triggerBatch(batch);
  }
}

/** Cuts the page's link for 5 s once 100 events arrived while 1,000 flow
 *  at 200/s, and checks that all 1,000 arrive in order, once. */
async function cutWhileFlowing(page, proxy, channel, what) {
  const sending = flow(channel, 1000, 200);
  await waitUntil(() => T(page, 'T.got.length >= 100'), '100 events before the cut');
  const before = await T(page, 'socketId()');
  proxy.cutFor(5000);
  await waitUntil(() => T(page, 'linkDown()'), 'the page to notice the cut', 3000);
  await sending;
  await waitUntil(async () => (await T(page, 'socketId()')) !== before && (await T(page, 'T.got.length >= 1000')),
    'all 1,000 events on a new socket', 15000);
  await sleep(300); // a duplicate would show up here
  const got = await T(page, 'T.got');
  for (let i = 0; i < got.length; i++) assert.equal(got[i], i, `${what}: event ${got[i]} at position ${i}`);
  assert.equal(got.length, 1000, `${what}: ${got.length} events`);
  assert.deepEqual(await T(page, 'T.failed'), []);
  assert.deepEqual(page.errors, [], 'uncaught errors in the page');
}

test('pusher-js (browser build) with pushd-resume as an ES module from pushd: a 5 s cut while 1,000 events flow loses none', async () => {
  const proxy = await startProxy({ hold: true });
  try {
    const ch = uniq('private-feed');
    const page = await open(`<script src="/vendor/pusher-js/pusher.min.js"></script>`, `<script type="module">
import { enableResume } from ${JSON.stringify(`${assetBase}/pushd-resume.mjs`)};
${recorder}
const pusher = new Pusher(${JSON.stringify(env.key)}, { cluster: 'mt1', wsHost: '127.0.0.1', wsPort: ${proxy.port},
  forceTLS: false, enabledTransports: ['ws'], disableStats: true, channelAuthorization: { endpoint: '/auth', transport: 'ajax' } });
const resume = enableResume(pusher);
window.socketId = () => pusher.connection.socket_id;
window.linkDown = () => !pusher.connection.connection;
window.position = () => resume.position(${JSON.stringify(ch)});
const ch = pusher.subscribe(${JSON.stringify(ch)});
ch.bind('pusher:subscription_succeeded', () => T.subscribed++);
ch.bind('n', (d) => T.got.push(d.n));
ch.bind('pushd:resume_failed', (i) => T.failed.push(i));
</script>`);
    await waitUntil(() => T(page, 'T.subscribed === 1'), `${ch} subscribed`);
    assert.ok((await T(page, 'position()')) > 0, 'the position from subscription_succeeded');
    await cutWhileFlowing(page, proxy, ch, 'pusher-js in Chromium');
    assert.equal(await T(page, 'T.subscribed'), 2);
  } finally {
    await proxy.close();
  }
});

test('Laravel Echo (broadcaster reverb, echo.iife.js) with pushd-resume.umd.js on a private channel: a 5 s cut while 1,000 events flow loses none', async () => {
  const proxy = await startProxy({ hold: true });
  try {
    const name = uniq('orders');
    const page = await open(`<script src="/vendor/pusher-js/pusher.min.js"></script>
<script src="/vendor/laravel-echo/echo.iife.js"></script>
<script src="${assetBase}/pushd-resume.umd.js"></script>`, `<script>
${recorder}
var echo = new Echo.default({ broadcaster: 'reverb', key: ${JSON.stringify(env.key)}, wsHost: '127.0.0.1', wsPort: ${proxy.port},
  forceTLS: false, enabledTransports: ['ws'], disableStats: true, authEndpoint: '/auth' });
PushdResume.enableResume(echo.connector.pusher);
window.socketId = function () { return echo.socketId(); };
window.linkDown = function () { return !echo.connector.pusher.connection.connection; };
echo.private(${JSON.stringify(name)})
  .subscribed(function () { T.subscribed++; })
  .error(function (e) { T.errors.push(e); })
  .listen('.n', function (d) { T.got.push(d.n); })
  .listen('.pushd:resume_failed', function (i) { T.failed.push(i); });
</script>`);
    await waitUntil(() => T(page, 'T.subscribed === 1'), `private-${name} subscribed (errors: see T.errors)`);
    await cutWhileFlowing(page, proxy, `private-${name}`, 'Echo in Chromium');
    assert.deepEqual(await T(page, 'T.errors'), []);
  } finally {
    await proxy.close();
  }
});
