// pushd-resume with stock pusher-js 8 and Laravel Echo 2: a client whose
// socket is cut while events flow gets every one of them, in order, once.
// The cut is a TCP proxy the test owns (lib.mjs startProxy): it closes the
// connection and refuses new ones for the cut's length, as a dead network
// would. Run by e2e/pusherjs_test.go (TestPusherJSResume); Laravel Echo's
// are in resume_echo.test.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { enableResume } from 'pushd-resume';
import {
  apps, client, connected, subscribe, sdk, uniq, sleep, waitUntil, collect, startProxy,
  assertAllInOrder, cutDuringFlow, sent,
} from './lib.mjs';

const require = createRequire(import.meta.url);

test('pusher-js with enableResume: a 5 s cut while 1,000 events flow at 200/s loses none, in order, none twice', async () => {
  const proxy = await startProxy();
  const p = client(apps.main, { pusherOptions: { wsPort: proxy.port } });
  const resume = enableResume(p);
  const frames = sent(p);
  await connected(p);
  const name = uniq('resume');
  const ch = await subscribe(p, name);
  const got = [];
  const seqs = [];
  ch.bind('n', (d) => {
    got.push(d.n);
    seqs.push(resume.position(name));
  });
  const failed = collect(ch, 'pushd:resume_failed');
  const { back } = await cutDuringFlow({ p, proxy, api: sdk(), channel: name, count: 1000, rate: 200, got, cutMs: 5000 });
  assertAllInOrder(got, 1000, 'pusher-js after a 5 s cut');
  assert.deepEqual(failed, []);
  assert.ok(back >= 5000, `the client was back ${back} ms after the cut, before the link healed at 5000 ms`);
  for (let i = 1; i < seqs.length; i++) {
    assert.ok(seqs[i] > seqs[i - 1], `position ${seqs[i]} of event ${i} not after ${seqs[i - 1]}: position() must be the event's own seq`);
  }
  const subs = frames.filter((f) => f.name === 'pusher:subscribe' && f.data.channel === name);
  assert.equal(subs.length, 2, `subscribes: ${JSON.stringify(subs)}`);
  assert.deepEqual(Object.keys(subs[0].data).sort(), ['auth', 'channel', 'want_seq']);
  assert.equal(subs[1].data.want_seq, true);
  assert.ok(subs[1].data.resume_from > 0 && subs[1].data.resume_from < seqs[999], `resume_from ${subs[1].data.resume_from}`);
  assert.match(subs[1].data.resume_socket_id, /^\d+\.\d+$/);
  console.log(`RESUME: pusher-js back ${back} ms after a 5000 ms cut; 1000/1000 events in order`);
});

test('an encrypted channel resumes: the stored ciphertexts are replayed and pusher-js decrypts them', async () => {
  const proxy = await startProxy();
  const p = client(apps.main, { pusherOptions: { wsPort: proxy.port } });
  enableResume(p);
  await connected(p);
  const name = `private-encrypted-${uniq('vault')}`;
  const ch = await subscribe(p, name);
  const got = [];
  ch.bind('n', (d) => got.push(d.n));
  await cutDuringFlow({ p, proxy, api: sdk(), channel: name, count: 200, rate: 200, got, cutAfter: 20, cutMs: 1500 });
  assertAllInOrder(got, 200, 'encrypted channel after a cut');
});

test('the UMD build (require) is the same module', async () => {
  const umd = require('pushd-resume');
  assert.equal(typeof umd.enableResume, 'function');
  assert.equal(umd.VERSION, enableResume.VERSION);
  const proxy = await startProxy();
  const p = client(apps.main, { pusherOptions: { wsPort: proxy.port } });
  const h = umd.enableResume(p);
  assert.equal(umd.enableResume(p), h, 'a second enableResume returns the first handle');
  await connected(p);
  const name = uniq('umd');
  const ch = await subscribe(p, name);
  const got = [];
  ch.bind('n', (d) => got.push(d.n));
  await cutDuringFlow({ p, proxy, api: sdk(), channel: name, count: 100, rate: 200, got, cutAfter: 10, cutMs: 1000 });
  assertAllInOrder(got, 100, 'UMD build after a cut');
  assert.ok(h.position(name) > 0);
  h.disable();
  assert.equal(Object.hasOwn(p, 'send_event') || Object.hasOwn(p, 'unsubscribe'), false, 'disable() removes the wrappers');
  assert.equal(h.position(name), undefined);
  assert.notEqual(umd.enableResume(p), h, 'after disable() the module can be enabled again');
});

test('without the module pusher-js is unchanged: plain subscribe frames, and what is sent during a cut is lost as before', async () => {
  const proxy = await startProxy();
  const p = client(apps.main, { pusherOptions: { wsPort: proxy.port } });
  const frames = sent(p);
  await connected(p);
  const name = uniq('plain');
  const ch = await subscribe(p, name);
  const got = [];
  ch.bind('n', (d) => got.push(d.n));
  const api = sdk();
  await api.trigger(name, 'n', { n: 0 });
  await waitUntil(() => got.length === 1, 'the first event');
  const before = p.connection.socket_id;
  proxy.cut();
  await waitUntil(() => p.connection.state !== 'connected', 'the client to notice the cut', 3000);
  for (let n = 1; n <= 5; n++) await api.trigger(name, 'n', { n });
  proxy.heal();
  await waitUntil(() => p.connection.state === 'connected' && p.connection.socket_id !== before && ch.subscribed,
    'the client back and subscribed', 10000);
  await api.trigger(name, 'n', { n: 6 });
  await waitUntil(() => got.includes(6), 'the live event after the reconnect');
  assert.deepEqual(got, [0, 6], 'stock pusher-js loses what was sent while it was cut off');
  for (const f of frames.filter((x) => x.name === 'pusher:subscribe')) {
    assert.deepEqual(Object.keys(f.data).sort(), ['auth', 'channel'], `subscribe without the module: ${JSON.stringify(f.data)}`);
  }
});

test('against a server without the extension (pushd with its seq stripped by the proxy) pusher-js with the module behaves as stock pusher-js', async () => {
  const proxy = await startProxy({ stripSeq: true });
  const p = client(apps.main, { pusherOptions: { wsPort: proxy.port } });
  const resume = enableResume(p);
  const frames = sent(p);
  await connected(p);
  const name = `private-${uniq('noext')}`;
  const ch = await subscribe(p, name);
  const got = [];
  ch.bind('n', (d) => got.push(d.n));
  const failed = collect(ch, 'pushd:resume_failed');
  const api = sdk();
  await api.trigger(name, 'n', { n: 0 });
  await waitUntil(() => got.length === 1, 'the first event');
  assert.equal(resume.position(name), undefined, 'no seq: no position');
  const before = p.connection.socket_id;
  proxy.cut();
  await waitUntil(() => p.connection.state !== 'connected', 'the client to notice the cut', 3000);
  for (let n = 1; n <= 5; n++) await api.trigger(name, 'n', { n });
  proxy.heal();
  await waitUntil(() => p.connection.state === 'connected' && p.connection.socket_id !== before && ch.subscribed,
    'the client back and subscribed', 10000);
  await api.trigger(name, 'n', { n: 6 });
  await waitUntil(() => got.includes(6), 'the live event after the reconnect');
  await sleep(200);
  assert.deepEqual(got, [0, 6], 'as stock pusher-js: what was sent during the cut is lost, nothing else changes');
  assert.deepEqual(failed, []);
  const subs = frames.filter((f) => f.name === 'pusher:subscribe');
  assert.equal(subs.length, 2);
  for (const f of subs) assert.deepEqual(Object.keys(f.data).sort(), ['auth', 'channel', 'want_seq'], `subscribe: ${JSON.stringify(f.data)}`);
});
