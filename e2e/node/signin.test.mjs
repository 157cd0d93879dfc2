// User authentication (pusher:signin), server-to-user events, terminate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apps,
  close,
  collect,
  connect,
  errorCode,
  frames,
  hmacHex,
  sdk,
  sendRaw,
  sleep,
  uniq,
  waitForErrorCode,
  waitForEvent,
  waitForFrame,
  waitUntil,
} from './lib.mjs';

// Signs the client in and waits until its #server-to-user-{id} channel is
// subscribed (pusher-js subscribes it right after pusher:signin_success).
async function signedIn(p) {
  p.signin();
  await waitUntil(
    () => p.user.serverToUserChannel?.subscribed,
    `signin of ${p.userData.id} and #server-to-user subscription (errors: ${JSON.stringify(p.errors)})`,
    5000,
  );
  return p;
}

test('signin succeeds; signin_success carries the user_data', async () => {
  const id = uniq('user');
  const p = await connect(apps.main, { user: { id, user_info: { name: 'Ada' } } });
  try {
    const all = frames(p);
    await signedIn(p);
    const f = all.find((ev) => ev.event === 'pusher:signin_success');
    assert.ok(f, 'no pusher:signin_success frame');
    assert.equal(typeof f.data.user_data, 'string');
    assert.deepEqual(JSON.parse(f.data.user_data), { id, user_info: { name: 'Ada' } });
    assert.equal(p.user.user_data.id, id);
    assert.equal(p.user.serverToUserChannel.name, `#server-to-user-${id}`);
    assert.deepEqual(p.errors, []);
  } finally {
    await close(p);
  }
});

test('sendToUser reaches every connection of that user and nobody else', async () => {
  const id = uniq('user');
  const a1 = await signedIn(await connect(apps.main, { user: { id } }));
  const a2 = await signedIn(await connect(apps.main, { user: { id } }));
  const other = await signedIn(await connect(apps.main, { user: { id: uniq('user') } }));
  try {
    const otherGot = collect(other.user, 'ev');
    const g1 = waitForEvent(a1.user, 'ev');
    const g2 = waitForEvent(a2.user, 'ev');
    const res = await sdk().sendToUser(id, 'ev', { for: id, n: 1 });
    assert.equal(res.status, 200);
    assert.deepEqual(await g1, { for: id, n: 1 });
    assert.deepEqual(await g2, { for: id, n: 1 });
    // the other user: a later event to it proves ordering
    const mark = waitForEvent(other.user, 'mark');
    await sdk().sendToUser(other.userData.id, 'mark', {});
    await mark;
    assert.deepEqual(otherGot, []);
  } finally {
    await close(a1);
    await close(a2);
    await close(other);
  }
});

test('terminateUserConnections disconnects that user (4009) and no one else', async () => {
  const id = uniq('user');
  const t1 = await signedIn(await connect(apps.main, { user: { id } }));
  const t2 = await signedIn(await connect(apps.main, { user: { id } }));
  const keep = await signedIn(await connect(apps.main, { user: { id: uniq('user') } }));
  const anon = await connect(apps.main);
  try {
    const seen1 = frames(t1);
    const seen2 = frames(t2);
    const res = await sdk().terminateUserConnections(id);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {});
    for (const [p, seen] of [
      [t1, seen1],
      [t2, seen2],
    ]) {
      await waitForErrorCode(p, 4009);
      // a pusher:error frame with code 4009 ...
      await waitUntil(
        () => seen.some((ev) => ev.event === 'pusher:error' && ev.data?.code === 4009),
        `pusher:error 4009 frame (frames: ${JSON.stringify(seen)})`,
        3000,
      );
      // ... and close code 4009, which pusher-js turns into a "refused"
      // WebSocketError carrying the close code
      await waitUntil(
        () => p.errors.some((e) => e.type === 'WebSocketError' && e.error?.data?.code === 4009),
        `close code 4009 (errors: ${JSON.stringify(p.errors)})`,
        3000,
      );
      // close code 4009 is in 4000-4099: pusher-js gives up ("refused")
      await waitUntil(() => p.connection.state === 'disconnected', `terminated client disconnected (state ${p.connection.state})`, 5000);
    }
    // no reconnect attempt after a 4009
    await sleep(1500);
    assert.equal(t1.connection.state, 'disconnected');
    assert.equal(t1.states.filter((s) => s === 'connected').length, 1, `states: ${t1.states}`);
    assert.equal(keep.connection.state, 'connected');
    assert.equal(anon.connection.state, 'connected');
    assert.equal(keep.errors.length, 0, JSON.stringify(keep.errors));
    // the survivor still gets its events
    const g = waitForEvent(keep.user, 'still');
    await sdk().sendToUser(keep.userData.id, 'still', { ok: true });
    assert.deepEqual(await g, { ok: true });
  } finally {
    await close(t1);
    await close(t2);
    await close(keep);
    await close(anon);
  }
});

test('terminated user may connect and sign in again', async () => {
  const id = uniq('user');
  const p = await signedIn(await connect(apps.main, { user: { id } }));
  try {
    await sdk().terminateUserConnections(id);
    await waitUntil(() => p.connection.state === 'disconnected', 'disconnect', 5000);
  } finally {
    await close(p);
  }
  const q = await signedIn(await connect(apps.main, { user: { id } }));
  try {
    const g = waitForEvent(q.user, 'back');
    await sdk().sendToUser(id, 'back', { again: true });
    assert.deepEqual(await g, { again: true });
  } finally {
    await close(q);
  }
});

test('signin with a bad signature: pusher:error 4009, connection stays open', async () => {
  const p = await connect(apps.main, { authSecret: 'wrong-secret' });
  try {
    const all = frames(p);
    p.signin();
    await waitForErrorCode(p, 4009);
    assert.ok(!all.some((ev) => ev.event === 'pusher:signin_success'));
    await sleep(500);
    assert.equal(p.connection.state, 'connected');
    assert.equal(p.user.serverToUserChannel, null);
  } finally {
    await close(p);
  }
});

for (const [what, userData] of [
  ['no id', { user_info: { name: 'no id' } }],
  ['an empty id', { id: '' }],
  ['a numeric id', { id: 42 }],
]) {
  test(`signin whose user_data has ${what}: 4009, no close`, async () => {
    const p = await connect(apps.main, {
      // correctly signed, so only the content is wrong
      userAuth: ({ socketId }) => {
        const user_data = JSON.stringify(userData);
        return { auth: `${apps.main.key}:${hmacHex(apps.main.secret, `${socketId}::user::${user_data}`)}`, user_data };
      },
    });
    try {
      const seen = frames(p);
      p.signin();
      await waitForErrorCode(p, 4009);
      await sleep(300);
      assert.equal(p.connection.state, 'connected');
      assert.ok(!seen.some((ev) => ev.event === 'pusher:signin_success'), JSON.stringify(seen));
    } finally {
      await close(p);
    }
  });
}

test('terminate_connections for a user with no connections: {}', async () => {
  const res = await sdk().terminateUserConnections(uniq('ghost'));
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {});
});

test('second signin as another id on the same connection: 4009', async () => {
  const p = await signedIn(await connect(apps.main, { user: { id: uniq('first') } }));
  try {
    const socketId = p.connection.socket_id;
    const user_data = JSON.stringify({ id: uniq('second') });
    sendRaw(p, {
      event: 'pusher:signin',
      data: { auth: `${apps.main.key}:${hmacHex(apps.main.secret, `${socketId}::user::${user_data}`)}`, user_data },
    });
    await waitForErrorCode(p, 4009);
    await sleep(300);
    assert.equal(p.connection.state, 'connected');
    // still the first user
    const g = waitForEvent(p.user, 'who');
    await sdk().sendToUser(p.userData.id, 'who', { first: true });
    assert.deepEqual(await g, { first: true });
  } finally {
    await close(p);
  }
});

test("after signin, another user's #server-to-user channel is refused", async () => {
  const p = await signedIn(await connect(apps.main, { user: { id: uniq('me') } }));
  try {
    const all = frames(p);
    const name = `#server-to-user-${uniq('someone-else')}`;
    sendRaw(p, { event: 'pusher:subscribe', data: { channel: name } });
    const f = await waitForFrame(
      all,
      (ev) => ev.event === 'pusher:subscription_error' && ev.channel === name,
      `subscription_error for ${name}`,
    );
    assert.equal(f.data.status, 401, JSON.stringify(f));
    assert.equal(f.data.type, 'AuthError', JSON.stringify(f));
    assert.ok(!p.errors.some((e) => errorCode(e) !== undefined), JSON.stringify(p.errors));
  } finally {
    await close(p);
  }
});
