// Presence channels with the real pusher-js client and pusher SDK
// (../shared/PROTOCOL.md A.5, C27-C33). Run through e2e/presencejs_test.go,
// which also provides the members app (max 2 members) as MEMBERS_*.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apps,
  close,
  collect,
  connect,
  eventually,
  sdk,
  subscribe,
  subscribeError,
  uniq,
  waitForEvent,
} from './lib.mjs';

const members = {
  id: process.env.MEMBERS_ID,
  key: process.env.MEMBERS_KEY,
  secret: process.env.MEMBERS_SECRET,
};
if (!members.key) throw new Error('MEMBERS_KEY is not set: run through the Go harness (go test -run PresenceJS)');

/** A connected pusher-js client that authorizes presence channels as user
 *  id with info (signed by the SDK's authorizeChannel with channel_data). */
function as(id, info, app = apps.main) {
  return connect(app, { user: { id, user_info: info } });
}

/** The JSON body of an SDK get(); fails on a non-2xx answer. */
async function getJSON(app, path, params) {
  const res = await sdk(app).get({ path, params });
  assert.equal(res.status, 200, `GET ${path}`);
  return res.json();
}

/** Resolves once `joiner` (user `who`) joined a fresh presence channel
 *  that `observer` is on. The server reports presence changes in one
 *  order to a connection, so every member event of an earlier change has
 *  reached the observer by then. */
async function barrier(observer, joiner, who) {
  const name = uniq('presence-sync');
  const ch = await subscribe(observer, name);
  const added = waitForEvent(ch, 'pusher:member_added', 5000, (m) => m.id === who);
  await subscribe(joiner, name);
  await added;
  observer.unsubscribe(name);
  joiner.unsubscribe(name);
}

/** The members of a pusher-js presence channel as {id: info}. */
function memberMap(ch) {
  const out = {};
  ch.members.each((m) => {
    out[m.id] = m.info;
  });
  return out;
}

test('several tabs of one user: member_added once, member_removed after the last tab', async () => {
  const name = uniq('presence-tabs');
  const alice = uniq('alice');
  const bob = await as(uniq('bob'), { name: 'Bob' });
  const tab1 = await as(alice, { name: 'Alice' });
  const tab2 = await as(alice, { name: 'Alice' });
  try {
    const chBob = await subscribe(bob, name);
    const added = collect(chBob, 'pusher:member_added');
    const removed = collect(chBob, 'pusher:member_removed');

    await subscribe(tab1, name);
    await eventually(() => added.length, (n) => n === 1, 'member_added of the first tab');
    assert.deepEqual(added[0], { id: alice, info: { name: 'Alice' } });

    const ch2 = await subscribe(tab2, name);
    assert.equal(ch2.members.count, 2, 'the second tab sees alice and bob');
    assert.equal(ch2.members.me.id, alice);
    await barrier(bob, tab2, alice);
    assert.equal(added.length, 1, `second tab announced again: ${JSON.stringify(added)}`);
    assert.equal(chBob.members.count, 2);

    // The first tab leaving is not alice leaving.
    tab1.unsubscribe(name);
    await barrier(bob, tab1, alice);
    assert.deepEqual(removed, [], 'member_removed while alice still has a tab');
    assert.equal(chBob.members.count, 2);

    // The last tab closing is.
    const gone = waitForEvent(chBob, 'pusher:member_removed');
    await close(tab2);
    assert.deepEqual(await gone, { id: alice, info: { name: 'Alice' } });
    assert.equal(removed.length, 1);
    assert.equal(chBob.members.count, 1);
    assert.equal(chBob.members.get(alice), null);
  } finally {
    await close(bob);
    await close(tab1);
    await close(tab2);
  }
});

test('members list: count, each, me and get carry user_info', async () => {
  const name = uniq('presence-list');
  const ids = [uniq('m-a'), uniq('m-b'), uniq('m-c')];
  const infos = [{ name: 'A', tags: ['x'] }, { name: 'B', n: 2 }, {}];
  const clients = [];
  try {
    for (let i = 0; i < ids.length; i++) {
      const p = await as(ids[i], infos[i]);
      clients.push(p);
      await subscribe(p, name);
    }
    const first = clients[0].channel(name);
    await eventually(() => first.members.count, (n) => n === 3, 'the first member sees 3');
    const last = clients[2].channel(name);
    assert.equal(last.members.count, 3);
    const want = Object.fromEntries(ids.map((id, i) => [id, infos[i]]));
    assert.deepEqual(memberMap(last), want);
    assert.deepEqual(memberMap(first), want);
    assert.deepEqual(last.members.me, { id: ids[2], info: {} });
    assert.deepEqual(first.members.me, { id: ids[0], info: infos[0] });
    assert.deepEqual(first.members.get(ids[1]), { id: ids[1], info: infos[1] });

    // A member who leaves leaves every list.
    const gone = waitForEvent(first, 'pusher:member_removed');
    await close(clients[1]);
    assert.equal((await gone).id, ids[1]);
    assert.equal(first.members.count, 2);
    assert.deepEqual(Object.keys(memberMap(last)).sort(), [ids[0], ids[2]].sort());
  } finally {
    for (const p of clients) await close(p);
  }
});

test('client events on presence channels carry the sender user_id to other users and tabs', async () => {
  const name = uniq('presence-ce');
  const alice = uniq('alice');
  const a1 = await as(alice, {});
  const a2 = await as(alice, {});
  const b = await as(uniq('bob'), {});
  try {
    const ch1 = await subscribe(a1, name);
    const ch2 = await subscribe(a2, name);
    const chB = await subscribe(b, name);
    const onSender = collect(ch1, 'client-typing');
    const got = (ch) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out waiting for client-typing')), 5000);
        ch.bind('client-typing', (data, meta) => {
          clearTimeout(timer);
          resolve({ data, meta });
        });
      });
    const atB = got(chB);
    const atTab2 = got(ch2);
    assert.equal(ch1.trigger('client-typing', { on: true }), true);
    for (const r of [await atB, await atTab2]) {
      assert.deepEqual(r.data, { on: true });
      assert.equal(r.meta?.user_id, alice);
    }
    // b answers; its event reaches alice's tabs with b's id, and the
    // sender itself got nothing (not echoed).
    const back = got(ch1);
    chB.trigger('client-typing', { on: false });
    const r = await back;
    assert.equal(r.meta?.user_id, b.userData.id);
    assert.equal(onSender.length, 1, `sender got its own event back: ${JSON.stringify(onSender)}`);
  } finally {
    await close(a1);
    await close(a2);
    await close(b);
  }
});

test('limit: max members per channel (members app: 2); more tabs of a member are fine', async () => {
  const name = uniq('presence-full');
  const m1 = await as('m1', {}, members);
  const m1b = await as('m1', {}, members);
  const m2 = await as('m2', {}, members);
  const m3 = await as('m3', {}, members);
  const m3again = await as('m3', {}, members);
  try {
    await subscribe(m1, name);
    await subscribe(m2, name);
    await subscribe(m1b, name);
    const err = await subscribeError(m3, name);
    assert.equal(err.type, 'LimitReached', JSON.stringify(err));
    assert.equal(typeof err.error, 'string', JSON.stringify(err));
    assert.equal(m3.connection.state, 'connected', 'the connection survives a refused subscription');

    // Once m2 left, m3 fits.
    await close(m2);
    await eventually(
      () => getJSON(members, `/channels/${name}`, { info: 'user_count' }),
      (b) => b.user_count === 1,
      'user_count 1',
    );
    const ch = await subscribe(m3again, name);
    assert.equal(ch.members.count, 2);
  } finally {
    for (const p of [m1, m1b, m2, m3, m3again]) await close(p);
  }
});

test('limits: user_info up to 1 KB and user_id up to 128 characters (defaults)', async () => {
  const name = uniq('presence-limits');
  // JSON.stringify({b: s}) is 8 bytes plus s: exactly 1024 and 1025 bytes
  const info1k = { b: 'x'.repeat(1016) };
  const infoOver = { b: 'x'.repeat(1017) };
  assert.equal(JSON.stringify(info1k).length, 1024);
  const observer = await as(uniq('obs'), {});
  const big = await as(uniq('big'), info1k);
  const tooBig = await as(uniq('toobig'), infoOver);
  const longID = await as('u'.repeat(128), {});
  const tooLongID = await as('u'.repeat(129), {});
  try {
    const chObs = await subscribe(observer, name);
    const added = waitForEvent(chObs, 'pusher:member_added', 5000, (m) => m.id === big.userData.id);
    await subscribe(big, name);
    assert.deepEqual((await added).info, info1k, 'a 1 KB user_info arrives whole');

    const e1 = await subscribeError(tooBig, name);
    assert.equal(e1.type, 'LimitReached', JSON.stringify(e1));
    assert.match(e1.error, /user_info/);

    await subscribe(longID, name);
    const e2 = await subscribeError(tooLongID, name);
    assert.equal(e2.type, 'LimitReached', JSON.stringify(e2));
    assert.match(e2.error, /user_id/);
    assert.equal(chObs.members.count, 3);
  } finally {
    for (const p of [observer, big, tooBig, longID, tooLongID]) await close(p);
  }
});

test('users endpoint via the SDK: unique users, user_count and subscription_count', async () => {
  const name = uniq('presence-users');
  const u1 = uniq('u1');
  const u2 = uniq('u2');
  const a = await as(u1, { n: 1 });
  const a2 = await as(u1, { n: 1 });
  const b = await as(u2, {});
  try {
    for (const p of [a, a2, b]) await subscribe(p, name);
    const body = await eventually(
      () => getJSON(apps.main, `/channels/${name}/users`),
      (x) => x.users?.length === 2,
      'two users',
    );
    assert.deepEqual(body.users.map((u) => u.id).sort(), [u1, u2].sort());
    for (const u of body.users) assert.deepEqual(Object.keys(u), ['id'], JSON.stringify(u));
    const info = await eventually(
      () => getJSON(apps.main, `/channels/${name}`, { info: 'user_count,subscription_count' }),
      (x) => x.subscription_count === 3,
      'subscription_count 3',
    );
    assert.deepEqual(info, { occupied: true, user_count: 2, subscription_count: 3 });

    await close(a);
    await close(a2);
    await eventually(
      () => getJSON(apps.main, `/channels/${name}/users`),
      (x) => x.users?.length === 1 && x.users[0].id === u2,
      `only ${u2}`,
    );
    await close(b);
    await eventually(() => getJSON(apps.main, `/channels/${name}/users`), (x) => x.users?.length === 0, 'no users');
  } finally {
    await close(a);
    await close(a2);
    await close(b);
  }
});
