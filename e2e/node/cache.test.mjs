// Cache channels: last event replayed to new subscribers, cache_miss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { close, connect, sdk, sleep, uniq, waitUntil } from './lib.mjs';

// Subscribes and records, in order, every event the channel emits
// (pusher:subscription_succeeded, pusher:cache_miss, app events).
function subscribeRecording(p, name) {
  const ch = p.subscribe(name);
  const seen = [];
  ch.bind_global((event, data) => seen.push({ event, data }));
  return { ch, seen };
}

const names = (seen) => seen.map((s) => s.event);

test('last event on cache- is sent right after subscription_succeeded', async () => {
  const name = uniq('cache');
  const res = await sdk().trigger(name, 'price', { amount: 10 });
  assert.equal(res.status, 200);
  const p = await connect();
  try {
    const { seen } = subscribeRecording(p, name);
    await waitUntil(() => seen.length >= 2, `two events on ${name} (seen ${JSON.stringify(seen)})`, 5000);
    await sleep(200);
    assert.deepEqual(names(seen), ['pusher:subscription_succeeded', 'price'], JSON.stringify(seen));
    assert.deepEqual(seen[1].data, { amount: 10 });
  } finally {
    await close(p);
  }
});

test('only the last event is kept', async () => {
  const name = uniq('cache');
  await sdk().trigger(name, 'first', { n: 1 });
  await sdk().trigger(name, 'second', { n: 2 });
  const p = await connect();
  try {
    const { seen } = subscribeRecording(p, name);
    await waitUntil(() => seen.length >= 2, `two events on ${name}`, 5000);
    await sleep(200);
    assert.deepEqual(names(seen), ['pusher:subscription_succeeded', 'second'], JSON.stringify(seen));
    assert.deepEqual(seen[1].data, { n: 2 });
  } finally {
    await close(p);
  }
});

test('fresh cache channel: pusher:cache_miss after subscription_succeeded', async () => {
  const name = uniq('cache');
  const p = await connect();
  try {
    const { ch, seen } = subscribeRecording(p, name);
    let missed = false;
    ch.bind('pusher:cache_miss', () => {
      missed = true;
    });
    await waitUntil(() => missed, `pusher:cache_miss on ${name} (seen ${JSON.stringify(seen)})`, 5000);
    assert.deepEqual(names(seen), ['pusher:subscription_succeeded', 'pusher:cache_miss']);
  } finally {
    await close(p);
  }
});

test('non-cache channel gets no cache_miss', async () => {
  const name = uniq('nocache');
  const p = await connect();
  try {
    const { seen } = subscribeRecording(p, name);
    await waitUntil(() => seen.length >= 1, 'subscription_succeeded', 5000);
    await sleep(300);
    assert.deepEqual(names(seen), ['pusher:subscription_succeeded']);
  } finally {
    await close(p);
  }
});

test('private-cache- replays the last event to an authorized subscriber', async () => {
  const name = uniq('private-cache');
  await sdk().trigger(name, 'state', { on: true });
  const p = await connect();
  try {
    const { seen } = subscribeRecording(p, name);
    await waitUntil(() => seen.length >= 2, `two events on ${name} (seen ${JSON.stringify(seen)})`, 5000);
    assert.deepEqual(names(seen), ['pusher:subscription_succeeded', 'state']);
    assert.deepEqual(seen[1].data, { on: true });
  } finally {
    await close(p);
  }
});

test('an existing subscriber gets the event once; a later one gets the cached copy', async () => {
  const name = uniq('cache');
  const a = await connect();
  const b = await connect();
  try {
    const ra = subscribeRecording(a, name);
    await waitUntil(() => names(ra.seen).includes('pusher:cache_miss'), 'cache_miss for A', 5000);
    await sdk().trigger(name, 'live', { v: 1 });
    await waitUntil(() => names(ra.seen).includes('live'), 'live event at A', 5000);
    const rb = subscribeRecording(b, name);
    await waitUntil(() => rb.seen.length >= 2, 'two events at B', 5000);
    await sleep(200);
    assert.deepEqual(names(ra.seen), ['pusher:subscription_succeeded', 'pusher:cache_miss', 'live']);
    assert.deepEqual(names(rb.seen), ['pusher:subscription_succeeded', 'live']);
    assert.deepEqual(rb.seen[1].data, { v: 1 });
  } finally {
    await close(a);
    await close(b);
  }
});

test('private-encrypted-cache- replays the ciphertext; pusher-js decrypts it', async () => {
  const name = uniq('private-encrypted-cache');
  await sdk().trigger(name, 'sealed', { secret: 'cached plaintext' });
  const p = await connect();
  try {
    const { seen } = subscribeRecording(p, name);
    await waitUntil(() => seen.length >= 2, `two events on ${name} (seen ${JSON.stringify(seen)})`, 5000);
    assert.deepEqual(names(seen), ['pusher:subscription_succeeded', 'sealed']);
    assert.deepEqual(seen[1].data, { secret: 'cached plaintext' });
  } finally {
    await close(p);
  }
});
