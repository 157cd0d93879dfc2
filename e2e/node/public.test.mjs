// Public channels: subscribe, SDK trigger, socket_id exclusion, batch, info.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apps, close, collect, connect, eventually, rawFrames, sdk, sleep, subscribe, uniq, waitForEvent } from './lib.mjs';

test('subscribe; SDK trigger with object data arrives equal', async () => {
  const p = await connect();
  try {
    const name = uniq('pub');
    const raw = rawFrames(p);
    const ch = await subscribe(p, name);
    assert.equal(ch.subscribed, true);
    raw.stop();
    assert.deepEqual(JSON.parse(raw.frames.find((f) => f.includes('subscription_succeeded'))), {
      event: 'pusher_internal:subscription_succeeded',
      channel: name,
      data: '{}',
    });
    const data = { hello: 'world', n: 42, nested: { list: [1, 'two', null, true] }, unicode: 'żółw ✓' };
    const got = waitForEvent(ch, 'my-event');
    const res = await sdk().trigger(name, 'my-event', data);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {});
    assert.deepEqual(await got, data);
  } finally {
    await close(p);
  }
});

test('SDK trigger with string data arrives as the same string', async () => {
  const p = await connect();
  try {
    const name = uniq('pub');
    const ch = await subscribe(p, name);
    // not JSON: pusher-js hands it over unchanged
    const got = waitForEvent(ch, 'str-event');
    await sdk().trigger(name, 'str-event', 'just a plain string: {not json');
    assert.equal(await got, 'just a plain string: {not json');
    // a string holding JSON is parsed by pusher-js (Protocol.decodeMessage)
    const got2 = waitForEvent(ch, 'str-event');
    await sdk().trigger(name, 'str-event', '{"a":1}');
    assert.deepEqual(await got2, { a: 1 });
  } finally {
    await close(p);
  }
});

test('raw frame of a triggered event carries channel, event and string data', async () => {
  const p = await connect();
  try {
    const name = uniq('pub');
    await subscribe(p, name);
    const raw = rawFrames(p);
    const got = waitForEvent(p.channel(name), 'raw-event');
    await sdk().trigger(name, 'raw-event', { x: 1 });
    await got;
    raw.stop();
    const frame = JSON.parse(raw.frames.find((r) => r.includes('raw-event')));
    assert.equal(frame.event, 'raw-event');
    assert.equal(frame.channel, name);
    assert.equal(typeof frame.data, 'string', `data must be a JSON string: ${JSON.stringify(frame)}`);
    assert.deepEqual(JSON.parse(frame.data), { x: 1 });
  } finally {
    await close(p);
  }
});

test('trigger to several channels reaches each', async () => {
  const p = await connect();
  try {
    const names = [uniq('multi'), uniq('multi'), uniq('multi')];
    const chans = [];
    for (const n of names) chans.push(await subscribe(p, n));
    const got = chans.map((c) => waitForEvent(c, 'fan'));
    await sdk().trigger(names, 'fan', { to: 'all' });
    for (const g of got) assert.deepEqual(await g, { to: 'all' });
  } finally {
    await close(p);
  }
});

test('socket_id excludes that connection only', async () => {
  const a = await connect();
  const b = await connect();
  try {
    const name = uniq('excl');
    const chA = await subscribe(a, name);
    const chB = await subscribe(b, name);
    const gotA = collect(chA, 'ev');
    const gotB = waitForEvent(chB, 'ev');
    await sdk().trigger(name, 'ev', { from: 'server' }, { socket_id: a.connection.socket_id });
    assert.deepEqual(await gotB, { from: 'server' });
    // a follow-up event without exclusion arrives at A: after it, A must
    // still have seen nothing of the first one
    const marker = waitForEvent(chA, 'marker');
    await sdk().trigger(name, 'marker', {});
    await marker;
    await sleep(100);
    assert.deepEqual(gotA, [], 'excluded socket received the event');
  } finally {
    await close(a);
    await close(b);
  }
});

test('batch trigger delivers every item in order', async () => {
  const p = await connect();
  try {
    const n1 = uniq('batch');
    const n2 = uniq('batch');
    const c1 = await subscribe(p, n1);
    const c2 = await subscribe(p, n2);
    const order = [];
    c1.bind_global((ev, data) => !ev.startsWith('pusher') && order.push([n1, ev, data]));
    c2.bind_global((ev, data) => !ev.startsWith('pusher') && order.push([n2, ev, data]));
    const res = await sdk().triggerBatch([
      { channel: n1, name: 'b1', data: { i: 1 } },
      { channel: n2, name: 'b2', data: 'two' },
      { channel: n1, name: 'b3', data: { i: 3 } },
    ]);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {});
    const deadline = Date.now() + 5000;
    while (order.length < 3 && Date.now() < deadline) await sleep(20);
    await sleep(100);
    // order is kept per channel (not across channels)
    assert.deepEqual(
      order.filter((o) => o[0] === n1),
      [
        [n1, 'b1', { i: 1 }],
        [n1, 'b3', { i: 3 }],
      ],
    );
    assert.deepEqual(
      order.filter((o) => o[0] === n2),
      [[n2, 'b2', 'two']],
    );
  } finally {
    await close(p);
  }
});

test('trigger with info=subscription_count returns the count', async () => {
  const a = await connect();
  const b = await connect();
  try {
    const name = uniq('count');
    const empty = uniq('count-empty');
    await subscribe(a, name);
    await subscribe(b, name);
    // counts are eventually consistent (tracker flush): retry briefly
    const body = await eventually(
      async () => {
        const res = await sdk().trigger([name, empty], 'ev', {}, { info: 'subscription_count' });
        assert.equal(res.status, 200);
        return res.json();
      },
      (b) => b.channels?.[name]?.subscription_count === 2,
      'subscription_count 2',
    );
    // an unoccupied channel is reported with 0 (or omitted)
    const e = body.channels?.[empty];
    assert.ok(e === undefined || (e.subscription_count ?? 0) === 0, JSON.stringify(body));
  } finally {
    await close(a);
    await close(b);
  }
});

test('batch trigger with info returns index-aligned batch results', async () => {
  const p = await connect();
  try {
    const n1 = uniq('binfo');
    const n2 = uniq('binfo');
    await subscribe(p, n1);
    const body = await eventually(
      async () => {
        const res = await sdk().triggerBatch([
          { channel: n1, name: 'x', data: {}, info: 'subscription_count' },
          { channel: n2, name: 'x', data: {}, info: 'subscription_count' },
        ]);
        assert.equal(res.status, 200);
        return res.json();
      },
      (b) => b.batch?.[0]?.subscription_count === 1,
      'batch subscription_count 1',
    );
    assert.ok(Array.isArray(body.batch), JSON.stringify(body));
    assert.equal(body.batch.length, 2);
    assert.equal(body.batch[0].subscription_count, 1, JSON.stringify(body));
    assert.equal(body.batch[1].subscription_count ?? 0, 0, JSON.stringify(body));
  } finally {
    await close(p);
  }
});

test('unsubscribe stops delivery', async () => {
  const p = await connect();
  try {
    const name = uniq('unsub');
    const other = uniq('unsub-marker');
    await subscribe(p, name);
    const mk = await subscribe(p, other);
    // pusher-js drops frames for channels it no longer knows, so watch the
    // connection's frames instead of the channel object
    const got = [];
    p.connection.bind('message', (ev) => ev.channel === name && got.push(ev));
    p.unsubscribe(name);
    await sleep(200); // pusher:unsubscribe has no reply
    await sdk().trigger(name, 'ev', { late: true });
    // same connection, later event on another channel: ordering proves the
    // first one would have arrived before it
    const m = waitForEvent(mk, 'marker');
    await sdk().trigger(other, 'marker', {});
    await m;
    await sleep(100);
    assert.deepEqual(got, []);
  } finally {
    await close(p);
  }
});

test('batch item socket_id excludes that connection for that item only', async () => {
  const a = await connect();
  const b = await connect();
  try {
    const name = uniq('bexcl');
    const chA = await subscribe(a, name);
    const chB = await subscribe(b, name);
    const gotA = collect(chA, 'one');
    const gotB = collect(chB, 'one');
    const twoA = waitForEvent(chA, 'two');
    const twoB = waitForEvent(chB, 'two');
    await sdk().triggerBatch([
      { channel: name, name: 'one', data: { n: 1 }, socket_id: a.connection.socket_id },
      { channel: name, name: 'two', data: { n: 2 } },
    ]);
    await twoA;
    await twoB;
    await sleep(100);
    assert.equal(gotA.length, 0, 'excluded socket got the batch item');
    assert.equal(gotB.length, 1);
  } finally {
    await close(a);
    await close(b);
  }
});

test('apps are isolated: same channel name on another app key gets nothing', async () => {
  const main = await connect();
  const other = await connect(apps.noid);
  try {
    const name = uniq('iso');
    const chMain = await subscribe(main, name);
    const chOther = await subscribe(other, name);
    const otherGot = collect(chOther, 'ev');
    const mainGot = waitForEvent(chMain, 'ev');
    await sdk().trigger(name, 'ev', { app: 'main' });
    assert.deepEqual(await mainGot, { app: 'main' });
    const mark = waitForEvent(chOther, 'mark');
    await sdk(apps.noid).trigger(name, 'mark', {});
    await mark;
    assert.deepEqual(otherGot, []);
  } finally {
    await close(main);
    await close(other);
  }
});
