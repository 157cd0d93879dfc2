// End-to-end encrypted channels (private-encrypted-) with push.js in headless
// Chromium against the real server. The app's backend is Pusher's Node SDK 5
// with an encryption master key (lib.mjs backend): its authorizeChannel
// answers the page's auth request with the channel's shared_secret
// (sha256(channel name + master key)) and its trigger seals each event with
// NaCl secretbox. push.js must open them, as pusher-js does.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import { backend, backendSDK, env, launchChromium, sleep, startSite, trigger, uniq, waitUntil, webmanPage, wsURL } from './lib.mjs';

// The same app with another master key: its shared_secret is a wrong key.
const otherKey = backendSDK(crypto.randomBytes(32).toString('base64'));

// What the auth endpoint answers for a channel, one step per request (the
// last step repeats): 'wrong' is otherKey's answer, 'none' has no
// shared_secret, 'right' is the site's default (backend's answer).
const plans = new Map();

let browser;
let site;
const pages = [];

before(async () => {
  browser = await launchChromium();
  site = await startSite({
    authorize({ channel, socketId }) {
      const plan = plans.get(channel);
      if (!plan) return undefined;
      const step = plan.length > 1 ? plan.shift() : plan[0];
      if (step === 'wrong') return otherKey.authorizeChannel(socketId, channel);
      if (step === 'none') {
        const answer = backend.authorizeChannel(socketId, channel);
        delete answer.shared_secret;
        return answer;
      }
      return undefined;
    },
  });
});
after(async () => {
  for (const p of pages) await p.context().close().catch(() => {});
  await browser?.close();
  await site?.close();
});

// open loads a page that subscribes to ch and records what it sees in
// window.T; the test sees the page's warnings, uncaught errors and every
// WebSocket frame from the start.
async function open(ch, extra = '') {
  const context = await browser.newContext();
  const page = await context.newPage();
  pages.push(page);
  page.setDefaultTimeout(10000);
  Object.assign(page, { errors: [], warnings: [], sent: [], received: [] });
  page.on('pageerror', (e) => page.errors.push(String(e && e.stack ? e.stack : e)));
  page.on('console', (m) => m.type() === 'warning' && page.warnings.push(m.text()));
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => page.sent.push(JSON.parse(String(f.payload))));
    ws.on('framereceived', (f) => page.received.push(JSON.parse(String(f.payload))));
  });
  await page.goto(site.page(webmanPage({
    script: `
var T = window.T = { events: [], global: [], subscribed: 0, subErrors: [], connErrors: [] };
var connection = new Push({ url: ${JSON.stringify(wsURL)}, app_key: ${JSON.stringify(env.key)}, auth: '/auth' });
connection.connection.on('error', function (e) { T.connErrors.push(e); });
var c = connection.subscribe(${JSON.stringify(ch)});
c.on('pusher:subscription_succeeded', function () { T.subscribed++; });
c.on('pusher:subscription_error', function (e) { T.subErrors.push(e); });
c.on('secret', function (data, meta) { T.events.push({ data: data, seq: meta && meta.seq }); });
connection.on('secret', function (data) { T.global.push(data); });
${extra}`,
  })));
  return page;
}

const T = (page, expr) => page.evaluate(`(function(){ return ${expr}; })()`);
const subscribed = (page) => waitUntil(() => T(page, 'T.subscribed'), 'subscription_succeeded');
const authCount = (ch) => site.authRequests.filter((r) => r.form.channel_name === ch).length;

test('SDK-encrypted events are decrypted in the page; the key comes from shared_secret and stays there', async () => {
  const ch = uniq('private-encrypted-x');
  const page = await open(ch);
  await subscribed(page);
  assert.equal(authCount(ch), 1);
  // The subscription carries the signature, not the key.
  const socketId = await T(page, 'connection.connection.socket_id');
  const sub = page.sent.find((f) => f.event === 'pusher:subscribe' && f.data.channel === ch);
  assert.deepEqual(sub.data, { channel: ch, auth: backend.authorizeChannel(socketId, ch).auth });

  const sent = [
    { text: 'bonjour, 世界 😀', n: 1, nested: { ok: true, list: [1, 'two', null] } },
    'a plain string',
    42,
    { big: 'é'.repeat(1500) + 'x'.repeat(3000) }, // 6,000 bytes of UTF-8, 4,500 UTF-16 units
  ];
  for (const d of sent) await backend.trigger(ch, 'secret', d);
  await waitUntil(() => T(page, `T.events.length >= ${sent.length}`), 'the decrypted events');
  const got = await T(page, 'T.events');
  assert.deepEqual(got.map((e) => e.data), sent);
  assert.ok(got.every((e) => e.seq > 0), 'events carry their stream position');
  assert.deepEqual(await T(page, 'T.global'), sent, 'Push-level listeners get the plaintext too');

  // What crossed the wire was {nonce, ciphertext}, opaque to pushd.
  const frames = page.received.filter((f) => f.event === 'secret');
  assert.equal(frames.length, sent.length);
  for (const f of frames) {
    const d = JSON.parse(f.data);
    assert.deepEqual(Object.keys(d).sort(), ['ciphertext', 'nonce']);
    assert.equal(Buffer.from(d.nonce, 'base64').length, 24);
    assert.ok(!f.data.includes('bonjour') && !f.data.includes('plain string'), 'no plaintext on the wire');
  }
  assert.equal(authCount(ch), 1, 'no key was fetched again');
  assert.equal(await T(page, 'typeof window.nacl'), 'undefined', 'the vendored tweetnacl sets no global');
  assert.deepEqual(page.warnings, []);
  assert.deepEqual(page.errors, []);
});

test("trigger('client-x') on an encrypted channel throws and sends nothing", async () => {
  const ch = uniq('private-encrypted-x');
  // Refused before the subscription is confirmed too (nothing is queued).
  const page = await open(ch, `
function attempt() {
  try { c.trigger('client-x', { secret: 'not in clear' }); return 'sent'; } catch (e) { return { name: e.name, message: e.message }; }
}
T.early = attempt();`);
  await subscribed(page);
  const late = await T(page, 'attempt()');
  for (const r of [await T(page, 'T.early'), late]) {
    assert.equal(r.name, 'UnsupportedFeature');
    assert.match(r.message, /client events are not supported on encrypted channels/);
    assert.ok(r.message.includes(ch), r.message);
  }
  await backend.trigger(ch, 'secret', { after: 'refusal' });
  await waitUntil(() => T(page, 'T.events.length'), 'an event after the refusal');
  assert.deepEqual((await T(page, 'T.events'))[0].data, { after: 'refusal' });
  assert.deepEqual(page.sent.filter((f) => f.event === 'client-x'), [], 'no client event on the wire');
  assert.deepEqual(page.errors, []);
});

test('a wrong key: fetched again once, then the event is dropped with a warning', async () => {
  const ch = uniq('private-encrypted-x');
  plans.set(ch, ['wrong']);
  const page = await open(ch);
  await subscribed(page);
  assert.equal(authCount(ch), 1);
  await backend.trigger(ch, 'secret', { n: 1 });
  await waitUntil(() => page.warnings.length, 'a warning');
  assert.equal(authCount(ch), 2, 'the key was fetched again, once');
  assert.match(page.warnings[0], new RegExp(`^Push: dropped secret on ${ch}: it does not decrypt with the channel's key`));
  // Data that is not {nonce, ciphertext} is dropped without asking for a key.
  await trigger(ch, 'secret', { text: 'not sealed' });
  await waitUntil(() => page.warnings.length >= 2, 'a second warning');
  assert.match(page.warnings[1], /^Push: dropped secret on .*: the nonce is not 24 bytes of base64/);
  await sleep(300);
  assert.deepEqual(await T(page, 'T.events'), [], 'nothing is delivered');
  assert.deepEqual(await T(page, 'T.global'), []);
  assert.equal(authCount(ch), 2);
  assert.equal(await T(page, 'connection.connection.state'), 'connected');
  assert.deepEqual(page.errors, []);
});

test('a rotated key: the key fetched again opens the event, and the order is kept', async () => {
  const ch = uniq('private-encrypted-x');
  plans.set(ch, ['wrong', 'right']);
  const page = await open(ch);
  await subscribed(page);
  for (let i = 1; i <= 5; i++) await backend.trigger(ch, 'secret', { n: i });
  await waitUntil(() => T(page, 'T.events.length >= 5'), 'five events');
  await sleep(200);
  assert.deepEqual((await T(page, 'T.events')).map((e) => e.data.n), [1, 2, 3, 4, 5]);
  assert.equal(authCount(ch), 2, 'one fetch of the new key');
  assert.deepEqual(page.warnings, []);
  assert.deepEqual(page.errors, []);
});

test('no shared_secret in the auth answer: pusher:subscription_error, no subscription', async () => {
  const ch = uniq('private-encrypted-x');
  plans.set(ch, ['none']);
  const page = await open(ch);
  await waitUntil(() => T(page, 'T.subErrors.length'), 'subscription_error');
  const [e] = await T(page, 'T.subErrors');
  assert.equal(e.type, 'AuthError');
  assert.equal(e.status, 200);
  assert.match(e.error, /has no "shared_secret"/);
  assert.deepEqual(page.sent.filter((f) => f.event === 'pusher:subscribe'), []);
  assert.equal(await T(page, 'T.subscribed'), 0);
  assert.deepEqual(page.errors, []);
});
