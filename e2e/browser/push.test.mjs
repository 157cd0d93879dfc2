// push.js in headless Chromium against the real server, used the way
// webman/push's documentation shows: <script src=…/push.js>, new Push({url,
// app_key, auth}), subscribe, on, trigger.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assetBase, env, launchChromium, openPage, resetServer, restartServer, sleep, startProxy, startSite, trigger, uniq, waitUntil, webmanPage, wsURL,
} from './lib.mjs';

let browser;
let site;
const pages = [];

before(async () => {
  browser = await launchChromium();
  site = await startSite();
});
after(async () => {
  for (const p of pages) await p.closeAll().catch(() => {});
  await browser?.close();
  await site?.close();
});

// prelude records what the page sees in window.T.
function prelude({ url = wsURL, auth = '/auth', extra = '' } = {}) {
  return `
var T = window.T = { events: [], states: [], connErrors: [], subErrors: [], subscribed: {}, recovery: [] };
var connection = new Push({ url: ${JSON.stringify(url)}, app_key: ${JSON.stringify(env.key)}, auth: ${JSON.stringify(auth)}${extra} });
connection.connection.on('state_change', function (s) { T.states.push(s.previous + '>' + s.current); });
connection.connection.on('error', function (e) { T.connErrors.push(e); });
function watch(channel) {
  channel.on('pusher:subscription_succeeded', function () { T.subscribed[channel.name] = (T.subscribed[channel.name] || 0) + 1; });
  channel.on('pusher:subscription_error', function (e) { T.subErrors.push({ channel: channel.name, error: e }); });
  channel.on('pusher:recovery_failed', function () { T.recovery.push(channel.name); });
  return channel;
}
`;
}

async function open(script, opts = {}) {
  const page = await openPage(browser, site.page(webmanPage({ script: prelude(opts) + script, src: opts.src })));
  pages.push(page);
  return page;
}

const T = (page, expr) => page.evaluate(`(function(){ return ${expr}; })()`);
const subscribed = (page, ch, times = 1) =>
  waitUntil(() => T(page, `(T.subscribed[${JSON.stringify(ch)}] || 0) >= ${times}`), `${ch} subscribed`);

function noPageErrors(page) {
  assert.deepEqual(page.errors, [], 'uncaught errors in the page');
}

test('public channel: an event from the HTTP API reaches the page (webman path, protocol query)', async () => {
  const ch = uniq('news');
  const page = await open(
    `var c = watch(connection.subscribe(${JSON.stringify(ch)}));
     c.on('message', function (data) { T.events.push(data); });`,
    { src: `${assetBase}/plugin/webman/push/push.js` },
  );
  await subscribed(page, ch);
  assert.deepEqual(await T(page, 'T.states'), ['initialized>connecting', 'connecting>connected']);
  assert.match(page.sockets[0].url(), new RegExp(`/app/${env.key}\\?protocol=7&client=pushd-js&version=`));
  assert.equal(await T(page, `connection.subscribe(${JSON.stringify(ch)}) === c`), true, 'subscribe returns the existing channel');
  assert.equal(await T(page, `connection.channel(${JSON.stringify(ch)}) === c && connection.allChannels().length === 1`), true);
  await trigger(ch, 'message', { text: 'hello', n: 1 });
  await trigger(ch, 'message', 'plain text');
  await waitUntil(() => T(page, 'T.events.length >= 2'), 'two events');
  assert.deepEqual(await T(page, 'T.events'), [{ text: 'hello', n: 1 }, 'plain text']);
  noPageErrors(page);
});

test('private channel through the auth endpoint (form POST, headers, params)', async () => {
  const ch = uniq('private-orders');
  const page = await open(
    `var c = watch(connection.subscribe(${JSON.stringify(ch)}));
     c.on('order', function (data, meta) { T.events.push({ data: data, seq: meta && meta.seq }); });`,
    { extra: `, authHeaders: { 'X-CSRF-Token': 'tok-1' }, authParams: { extra: 'x' }` },
  );
  await subscribed(page, ch);
  const req = site.authRequests.find((r) => r.form.channel_name === ch);
  assert.ok(req, 'auth endpoint was asked');
  assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.equal(req.headers['x-csrf-token'], 'tok-1');
  assert.equal(req.form.extra, 'x');
  assert.equal(req.form.socket_id, await T(page, 'connection.connection.socket_id'));
  await trigger(ch, 'order', { id: 42 });
  await waitUntil(() => T(page, 'T.events.length'), 'private event');
  const [ev] = await T(page, 'T.events');
  assert.deepEqual(ev.data, { id: 42 });
  assert.ok(ev.seq > 0, `event carries its stream position, got ${ev.seq}`);
  noPageErrors(page);
});

test('refused channel: 403 becomes pusher:subscription_error, nothing is thrown', async () => {
  const bad = uniq('private-forbidden');
  const good = uniq('after-refusal');
  const page = await open(
    `watch(connection.subscribe(${JSON.stringify(bad)}));
     T.badTrigger = connection.channel(${JSON.stringify(bad)}).trigger('not-client', {});`,
  );
  await waitUntil(() => T(page, 'T.subErrors.length'), 'subscription_error');
  const [e] = await T(page, 'T.subErrors');
  assert.equal(e.channel, bad);
  assert.equal(e.error.status, 403);
  assert.equal(e.error.type, 'AuthError');
  assert.equal(await T(page, 'T.badTrigger'), false, 'a bad client event name is refused, not thrown');
  assert.equal(await T(page, "T.connErrors.some(function (x) { return x.type === 'ClientEventError'; })"), true);
  // A signature the server rejects is an event too.
  const bogus = uniq('private-bogus');
  await T(page, `(connection.config.authorizer = function (name, sid, cb) { cb(null, { auth: '${env.key}:00' }); }, watch(connection.subscribe(${JSON.stringify(bogus)})), 1)`);
  await waitUntil(() => T(page, 'T.subErrors.length >= 2'), 'server subscription_error');
  const second = (await T(page, 'T.subErrors'))[1];
  assert.equal(second.channel, bogus);
  assert.equal(second.error.status, 401);
  // the connection is still usable
  await T(page, `(watch(connection.subscribe(${JSON.stringify(good)})), 1)`);
  await subscribed(page, good);
  assert.equal(await T(page, "connection.connection.state"), 'connected');
  noPageErrors(page);
});

test('client events between two pages (queued until subscribed, not echoed)', async () => {
  const ch = uniq('private-chat');
  const listen = `var c = watch(connection.subscribe(${JSON.stringify(ch)}));
     c.on('client-msg', function (data) { T.events.push(data); });`;
  const b = await open(listen);
  await subscribed(b, ch);
  // a triggers right after subscribing: the event waits for subscription_succeeded
  const a = await open(listen + `\nT.sent = c.trigger('client-msg', { text: 'hi from a' });`);
  await waitUntil(() => T(b, 'T.events.length'), 'client event on page b');
  assert.deepEqual(await T(b, 'T.events'), [{ text: 'hi from a' }]);
  assert.equal(await T(a, 'T.sent'), true);
  await T(b, `connection.channel(${JSON.stringify(ch)}).trigger('client-msg', { text: 'hi from b' })`);
  await waitUntil(() => T(a, 'T.events.length'), 'client event on page a');
  assert.deepEqual(await T(a, 'T.events'), [{ text: 'hi from b' }]);
  assert.deepEqual(await T(b, 'T.events'), [{ text: 'hi from a' }], 'the sender does not get its own event');
  noPageErrors(a);
  noPageErrors(b);
});

test('presence: members, me, member_added, member_removed', async () => {
  const ch = uniq('presence-room');
  const script = `var c = watch(connection.subscribe(${JSON.stringify(ch)}));
     c.on('pusher:subscription_succeeded', function (members) {
       T.initial = { count: members.count, me: members.me, ids: [] };
       members.each(function (m) { T.initial.ids.push(m.id + ':' + m.info.name); });
     });
     c.on('pusher:member_added', function (m) { T.events.push(['added', m.id, m.info.name, c.members.count]); });
     c.on('pusher:member_removed', function (m) { T.events.push(['removed', m.id, c.members.count]); });`;
  const alice = await open(script, { auth: '/auth?user=alice' });
  await subscribed(alice, ch);
  assert.deepEqual(await T(alice, 'T.initial'), { count: 1, me: { id: 'alice', info: { name: 'User alice' } }, ids: ['alice:User alice'] });
  const bob = await open(script, { auth: '/auth?user=bob' });
  await subscribed(bob, ch);
  const bobInitial = await T(bob, 'T.initial');
  assert.equal(bobInitial.count, 2);
  assert.deepEqual(bobInitial.ids.sort(), ['alice:User alice', 'bob:User bob']);
  assert.deepEqual(bobInitial.me, { id: 'bob', info: { name: 'User bob' } });
  await waitUntil(() => T(alice, 'T.events.length'), 'member_added on alice');
  assert.deepEqual(await T(alice, 'T.events'), [['added', 'bob', 'User bob', 2]]);
  assert.deepEqual(await T(alice, `connection.channel(${JSON.stringify(ch)}).members.get('bob')`), { id: 'bob', info: { name: 'User bob' } });
  await bob.closeAll();
  await waitUntil(() => T(alice, 'T.events.length >= 2'), 'member_removed on alice');
  assert.deepEqual((await T(alice, 'T.events'))[1], ['removed', 'bob', 1]);
  noPageErrors(alice);
});

test('reconnect after the server restarts, channels resubscribed', async () => {
  const pub = uniq('restart');
  const priv = uniq('private-restart');
  const page = await open(
    `[${JSON.stringify(pub)}, ${JSON.stringify(priv)}].forEach(function (name) {
       watch(connection.subscribe(name)).on('e', function (d) { T.events.push(name + ':' + d); });
     });`,
  );
  await subscribed(page, pub);
  await subscribed(page, priv);
  await trigger(pub, 'e', 'before');
  await waitUntil(() => T(page, 'T.events.length'), 'event before restart');
  const firstSocket = await T(page, 'connection.connection.socket_id');
  await restartServer();
  await waitUntil(() => T(page, `T.subscribed[${JSON.stringify(pub)}] >= 2 && T.subscribed[${JSON.stringify(priv)}] >= 2`), 'resubscribed after restart', 20000);
  assert.notEqual(await T(page, 'connection.connection.socket_id'), firstSocket);
  const states = await T(page, 'T.states');
  assert.ok(states.includes('connected>disconnected') && states.at(-1) === 'connecting>connected', `states: ${states}`);
  await trigger(pub, 'e', 'after');
  await trigger(priv, 'e', 'after');
  await waitUntil(() => T(page, 'T.events.length >= 3'), 'events after restart');
  assert.deepEqual((await T(page, 'T.events')).sort(), [`${priv}:after`, `${pub}:after`, `${pub}:before`].sort());
  assert.deepEqual(await T(page, 'T.recovery'), []);
  noPageErrors(page);
});

test('recovery_failed after the event store was reset: the channel takes the position the server gives', async () => {
  const proxy = await startProxy();
  try {
    const ch = uniq('reset');
    const page = await open(
      `watch(connection.subscribe(${JSON.stringify(ch)})).on('e', function (d) { T.events.push(d); });`,
      { url: proxy.url, extra: ', maxReconnectDelay: 2000' },
    );
    await subscribed(page, ch);
    await trigger(ch, 'e', 'before');
    await waitUntil(() => T(page, 'T.events.length'), 'event before the reset');
    await resetServer();
    // The old position belongs to the wiped stream: it cannot be resumed.
    await waitUntil(() => T(page, 'T.recovery.length'), 'recovery_failed after the reset', 20000);
    // Cut before any new event: the next resume must start from the
    // position recovery_failed carried, not from the old one again.
    proxy.cut();
    await waitUntil(() => T(page, "connection.connection.state !== 'connected'"), 'the page to notice the cut');
    await trigger(ch, 'e', 'missed-1');
    await trigger(ch, 'e', 'missed-2');
    proxy.heal();
    await waitUntil(() => T(page, 'T.events.length >= 3'), 'the events missed during the cut', 20000);
    await sleep(300); // let a duplicate or a second recovery_failed show up
    assert.deepEqual(await T(page, 'T.events'), ['before', 'missed-1', 'missed-2']);
    assert.deepEqual(await T(page, 'T.recovery'), [ch]);
    noPageErrors(page);
  } finally {
    await proxy.close();
  }
});

test('resume: 1,000 events sent while the page is cut off arrive in order, once', async (t) => {
  const N = 1000;
  const proxy = await startProxy();
  try {
    const ch = uniq('resume');
    const page = await open(
      `watch(connection.subscribe(${JSON.stringify(ch)})).on('tick', function (d) { T.events.push(d); });`,
      { url: proxy.url, extra: ', maxReconnectDelay: 2000' },
    );
    await subscribed(page, ch);
    await trigger(ch, 'tick', 0);
    await waitUntil(() => T(page, 'T.events.length'), 'first event');
    proxy.cut();
    await waitUntil(() => T(page, "connection.connection.state !== 'connected'"), 'the page to notice the cut');
    const start = Date.now();
    for (let i = 1; i <= N; i++) {
      const due = start + (i * 5000) / N; // ~5 s of sending
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await trigger(ch, 'tick', i);
    }
    const sentMs = Date.now() - start;
    assert.equal(await T(page, 'T.events.length'), 1, 'nothing arrives while cut off');
    proxy.heal();
    const healed = Date.now();
    await waitUntil(() => T(page, `T.events.length >= ${N + 1}`), `${N + 1} events`, 20000);
    const caughtUpMs = Date.now() - healed;
    await new Promise((r) => setTimeout(r, 300)); // let any duplicate show up
    const got = await T(page, 'T.events');
    const seen = new Set();
    let dup = 0;
    let outOfOrder = 0;
    for (let i = 0; i < got.length; i++) {
      if (seen.has(got[i])) dup++;
      seen.add(got[i]);
      if (i > 0 && got[i] <= got[i - 1]) outOfOrder++;
    }
    let lost = 0;
    for (let i = 0; i <= N; i++) if (!seen.has(i)) lost++;
    const summary = `RESUME: sent=${N} while cut off for ${sentMs} ms; received=${got.length - 1} lost=${lost} dup=${dup} outOfOrder=${outOfOrder}; caught up ${caughtUpMs} ms after the link came back; recovery_failed=${(await T(page, 'T.recovery')).length}; states=${(await T(page, 'T.states')).join(',')}`;
    t.diagnostic(summary);
    console.log(summary);
    assert.equal(lost, 0, summary);
    assert.equal(dup, 0, summary);
    assert.equal(outOfOrder, 0, summary);
    assert.deepEqual(await T(page, 'T.recovery'), []);
    noPageErrors(page);
  } finally {
    await proxy.close();
  }
});
