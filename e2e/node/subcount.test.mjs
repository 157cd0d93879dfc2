// Subscription counting (../shared/PROTOCOL.md C55) with the real pusher-js
// client: pusher_internal:subscription_count sets channel.subscriptionCount
// and emits pusher:subscription_count. Run through e2e/subcountjs_test.go,
// which provides an app with subscription counting on as COUNT_*; the main
// app has it off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apps, close, collect, connect, frames, sdk, sleep, subscribe, uniq, waitUntil } from './lib.mjs';

const counting = {
  id: process.env.COUNT_ID,
  key: process.env.COUNT_KEY,
  secret: process.env.COUNT_SECRET,
};
if (!counting.key) throw new Error('COUNT_KEY is not set: run through the Go harness (go test -run SubscriptionCountJS)');

/** The count the HTTP API reports for a channel. */
async function apiCount(name) {
  const res = await sdk(counting).get({ path: `/channels/${name}`, params: { info: 'subscription_count' } });
  return (await res.json()).subscription_count;
}

/** Waits until channel.subscriptionCount is n. */
function countIs(ch, n, what) {
  return waitUntil(() => ch.subscriptionCount === n, `${what}: subscriptionCount ${n} (is ${ch.subscriptionCount})`, 5000);
}

for (const prefix of ['count', 'private-count']) {
  test(`${prefix}: subscriptionCount becomes 2 when a second client subscribes and 1 when it leaves`, async () => {
    const p1 = await connect(counting);
    const p2 = await connect(counting);
    try {
      const name = uniq(prefix);
      const raw = frames(p1);
      const ch1 = await subscribe(p1, name);
      const events = collect(ch1, 'pusher:subscription_count');
      await countIs(ch1, 1, 'first subscriber alone');

      const ch2 = await subscribe(p2, name);
      await countIs(ch1, 2, 'first subscriber after the second joined');
      await countIs(ch2, 2, 'second subscriber');
      assert.equal(await apiCount(name), 2, 'the API reports the same count');
      assert.deepEqual(events.at(-1), { subscription_count: 2 });

      p2.unsubscribe(name);
      await countIs(ch1, 1, 'first subscriber after the second left');
      assert.deepEqual(events.at(-1), { subscription_count: 1 });
      assert.equal(await apiCount(name), 1);

      // pusher-js decoded the data, which the server sent as a JSON string
      const seen = raw.filter((f) => f.event === 'pusher_internal:subscription_count');
      assert.ok(seen.length >= 2, `count frames: ${JSON.stringify(seen)}`);
      for (const f of seen) assert.equal(f.channel, name);
    } finally {
      await close(p1);
      await close(p2);
    }
  });
}

test('the count frame is the exact Pusher frame, data a JSON string', async () => {
  const p = await connect(counting);
  try {
    const name = uniq('count');
    const transport = p.connection.connection.transport;
    const texts = [];
    transport.bind('message', (m) => texts.push(m.data));
    const ch = await subscribe(p, name);
    await countIs(ch, 1, 'alone');
    const frame = texts.find((s) => s.includes('subscription_count'));
    assert.equal(
      frame,
      JSON.stringify({ event: 'pusher_internal:subscription_count', channel: name, data: '{"subscription_count":1}' }),
    );
  } finally {
    await close(p);
  }
});

test('no subscription_count with the setting off, nor on a presence channel', async () => {
  const off = [await connect(apps.main), await connect(apps.main)];
  const on = [await connect(counting), await connect(counting)];
  try {
    const offName = uniq('nocount');
    const presName = uniq('presence-nocount');
    const barrier = uniq('count');
    const offRaw = off.map((p) => frames(p));
    const onRaw = on.map((p) => frames(p));
    const offChans = [];
    for (const p of off) offChans.push(await subscribe(p, offName));
    const presChans = [];
    for (const p of on) presChans.push(await subscribe(p, presName));
    const offEvents = offChans.map((c) => collect(c, 'pusher:subscription_count'));
    const presEvents = presChans.map((c) => collect(c, 'pusher:subscription_count'));
    // Counts on a counting channel subscribed after the others: once they
    // arrived, any count for the channels above would have arrived too.
    const barriers = [];
    for (const p of on) barriers.push(await subscribe(p, barrier));
    for (const c of barriers) await countIs(c, 2, 'barrier channel');
    await sleep(1500);

    assert.equal(presChans[0].members.count, 2);
    for (const c of [...offChans, ...presChans]) assert.ok(!c.subscriptionCount, `${c.name}: ${c.subscriptionCount}`);
    for (const e of [...offEvents, ...presEvents]) assert.deepEqual(e, []);
    for (const got of offRaw) {
      assert.deepEqual(got.filter((f) => f.event === 'pusher_internal:subscription_count'), []);
    }
    for (const got of onRaw) {
      assert.deepEqual(got.filter((f) => f.event === 'pusher_internal:subscription_count' && f.channel === presName), []);
    }
  } finally {
    for (const p of [...off, ...on]) await close(p);
  }
});
