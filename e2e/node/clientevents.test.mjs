// Client events (client-*) between pusher-js clients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apps,
  close,
  collect,
  connect,
  errorCode,
  frames,
  rawFrames,
  sdk,
  sendRaw,
  sleep,
  subscribe,
  uniq,
  waitForErrorCode,
  waitForEvent,
  waitUntil,
} from './lib.mjs';

// Two connected clients of an app, both subscribed to `name`.
async function pair(app, name) {
  const a = await connect(app);
  const b = await connect(app);
  const chA = await subscribe(a, name);
  const chB = await subscribe(b, name);
  return { a, b, chA, chB };
}

// After this, every frame sent to `p` before the marker has been seen:
// trigger a server event on the channel and wait for it.
async function flush(p, channelName) {
  const got = waitForEvent(p.channel(channelName), 'flush-marker', 5000);
  await sdk().trigger(channelName, 'flush-marker', {});
  await got;
  await sleep(100);
}

test('client event on a private channel reaches the other subscriber, not the sender', async () => {
  const name = uniq('private-ce');
  const { a, b, chA, chB } = await pair(apps.main, name);
  try {
    const echoed = collect(chA, 'client-foo');
    const aFrames = frames(a);
    const rawB = rawFrames(b);
    const data = { text: 'hi from A', list: [1, 2, { three: 3 }], flag: false };
    const got = waitForEvent(chB, 'client-foo');
    assert.equal(chA.trigger('client-foo', data), true);
    assert.deepEqual(await got, data);
    // the frame B got carries the data as a JSON string
    rawB.stop();
    const frame = JSON.parse(rawB.frames.find((f) => f.includes('client-foo')));
    assert.equal(frame.event, 'client-foo');
    assert.equal(frame.channel, name);
    assert.equal(typeof frame.data, 'string', `client event data must be relayed as a string: ${JSON.stringify(frame)}`);
    assert.deepEqual(JSON.parse(frame.data), data);
    // no echo to A (bounded wait: a later server event has arrived at A)
    await flush(a, name);
    assert.deepEqual(echoed, []);
    assert.equal(aFrames.filter((f) => f.event === 'client-foo').length, 0);
    assert.deepEqual(a.errors, []);
  } finally {
    await close(a);
    await close(b);
  }
});

test('client event with string data arrives as the same string', async () => {
  const name = uniq('private-ce');
  const { a, b, chA, chB } = await pair(apps.main, name);
  try {
    const got = waitForEvent(chB, 'client-str');
    chA.trigger('client-str', 'plain text, not JSON');
    assert.equal(await got, 'plain text, not JSON');
  } finally {
    await close(a);
    await close(b);
  }
});

test('client event on a presence channel carries the sender user_id', async (t) => {
  const name = uniq('presence-ce');
  const a = await connect(apps.main, { user: { id: 'alice-ce' } });
  const b = await connect(apps.main, { user: { id: 'bob-ce' } });
  try {
    const chA = await subscribe(a, name);
    if (!chA) return;
    const chB = await subscribe(b, name);
    const got = new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for client-p on B')), 5000);
      chB.bind('client-p', (data, meta) => {
        clearTimeout(t);
        resolve({ data, meta });
      });
    });
    chA.trigger('client-p', { x: 1 });
    const { data, meta } = await got;
    assert.deepEqual(data, { x: 1 });
    assert.equal(meta?.user_id, 'alice-ce');
  } finally {
    await close(a);
    await close(b);
  }
});

test('client event on a public channel: pusher:error 4300, not delivered', async () => {
  const name = uniq('pub-ce');
  const { a, b, chA, chB } = await pair(apps.main, name);
  try {
    const gotB = collect(chB, 'client-nope');
    chA.trigger('client-nope', { x: 1 });
    const e = await waitForErrorCode(a, 4300);
    // pusher-js surfaces pusher:error frames as connection 'error'
    // {type:'PusherError', data:{code, message}}
    assert.equal(e.type, 'PusherError');
    assert.equal(typeof e.data.message, 'string');
    await flush(b, name);
    assert.deepEqual(gotB, []);
    // 4300 is a frame only: the connection stays up
    assert.equal(a.connection.state, 'connected');
  } finally {
    await close(a);
    await close(b);
  }
});

test('client event on a channel the sender is not subscribed to: 4300', async () => {
  const name = uniq('private-ce');
  const a = await connect();
  const b = await connect();
  try {
    const chB = await subscribe(b, name);
    const gotB = collect(chB, 'client-sneak');
    sendRaw(a, { event: 'client-sneak', channel: name, data: { x: 1 } });
    await waitForErrorCode(a, 4300);
    await flush(b, name);
    assert.deepEqual(gotB, []);
    assert.equal(a.connection.state, 'connected');
  } finally {
    await close(a);
    await close(b);
  }
});

test('client event data over max_event_bytes (small-key, 100): 4300', async () => {
  const name = uniq('private-ce');
  const { a, b, chA, chB } = await pair(apps.small, name);
  try {
    const gotB = collect(chB, 'client-big');
    chA.trigger('client-big', { blob: 'x'.repeat(200) });
    await waitForErrorCode(a, 4300);
    // a small one still goes through
    const small = waitForEvent(chB, 'client-small');
    chA.trigger('client-small', { s: 1 });
    assert.deepEqual(await small, { s: 1 });
    assert.deepEqual(gotB, []);
  } finally {
    await close(a);
    await close(b);
  }
});

test('client events disabled for the app (noclient-key): 4301', async () => {
  const name = uniq('private-ce');
  const { a, b, chA, chB } = await pair(apps.noclient, name);
  try {
    const gotB = collect(chB, 'client-off');
    chA.trigger('client-off', { x: 1 });
    const e = await waitForErrorCode(a, 4301);
    assert.equal(e.type, 'PusherError');
    const got = waitForEvent(chB, 'flush-marker');
    await sdk(apps.noclient).trigger(name, 'flush-marker', {});
    await got;
    await sleep(100);
    assert.deepEqual(gotB, []);
    assert.equal(a.connection.state, 'connected');
  } finally {
    await close(a);
    await close(b);
  }
});

test('client event rate limit: 30 at once -> 4301 and at most ~10 delivered', async () => {
  const name = uniq('private-ce');
  const { a, b, chA, chB } = await pair(apps.main, name);
  try {
    const gotB = collect(chB, 'client-burst');
    for (let i = 0; i < 30; i++) chA.trigger('client-burst', { i });
    await waitForErrorCode(a, 4301);
    await sleep(1000);
    await flush(b, name);
    const n4301 = a.errors.filter((e) => errorCode(e) === 4301).length;
    assert.ok(n4301 >= 1);
    assert.ok(gotB.length >= 1, 'nothing delivered at all');
    assert.ok(gotB.length <= 11, `B received ${gotB.length} of 30 client events in a burst (limit 10/s)`);
    // delivered in order, starting with the first one
    const seqs = gotB.map((d) => d.i);
    assert.equal(seqs[0], 0, `delivered: ${seqs}`);
    assert.ok(seqs.every((v, i) => i === 0 || v > seqs[i - 1]), `out of order: ${seqs}`);
    // the connection survives and works again after a second
    assert.equal(a.connection.state, 'connected');
    await sleep(1100);
    const again = waitForEvent(chB, 'client-again');
    chA.trigger('client-again', { ok: 1 });
    assert.deepEqual(await again, { ok: 1 });
  } finally {
    await close(a);
    await close(b);
  }
});

test('exactly 10 client events at once are all delivered without 4301', async () => {
  const name = uniq('private-ce');
  const { a, b, chA, chB } = await pair(apps.main, name);
  try {
    const gotB = collect(chB, 'client-ten');
    for (let i = 0; i < 10; i++) chA.trigger('client-ten', { i });
    await waitUntil(() => gotB.length === 10, `10 events at B (got ${gotB.length})`, 5000);
    await flush(a, name);
    assert.deepEqual(
      gotB.map((d) => d.i),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.equal(a.errors.filter((e) => errorCode(e) === 4301).length, 0, JSON.stringify(a.errors));
  } finally {
    await close(a);
    await close(b);
  }
});

test('client event data of exactly max_event_bytes (small-key, 100) is delivered, 101 is not', async () => {
  const name = uniq('private-ce');
  const { a, b, chA, chB } = await pair(apps.small, name);
  try {
    const got100 = waitForEvent(chB, 'client-edge');
    chA.trigger('client-edge', 'e'.repeat(100));
    assert.equal(await got100, 'e'.repeat(100));
    assert.equal(a.errors.length, 0, JSON.stringify(a.errors));
    const gotB = collect(chB, 'client-edge2');
    chA.trigger('client-edge2', 'e'.repeat(101));
    await waitForErrorCode(a, 4300);
    const after = waitForEvent(chB, 'client-after');
    chA.trigger('client-after', 'ok');
    await after;
    assert.deepEqual(gotB, []);
  } finally {
    await close(a);
    await close(b);
  }
});
