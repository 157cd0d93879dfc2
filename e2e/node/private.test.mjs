// Private and encrypted channels, and subscription errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apps,
  close,
  connect,
  frames,
  hmacHex,
  rawFrames,
  sdk,
  sendRaw,
  subscribe,
  subscribeError,
  uniq,
  waitForEvent,
  waitForFrame,
} from './lib.mjs';

function assertAuthError(err, correctSig) {
  assert.equal(err.type, 'AuthError', JSON.stringify(err));
  assert.equal(err.status, 401, JSON.stringify(err));
  assert.equal(typeof err.error, 'string', JSON.stringify(err));
  if (correctSig) {
    assert.ok(!JSON.stringify(err).includes(correctSig), `subscription_error leaks the expected signature: ${JSON.stringify(err)}`);
  }
}

test('private channel with a real signature subscribes and receives', async () => {
  const p = await connect();
  try {
    const name = uniq('private');
    const ch = await subscribe(p, name);
    const got = waitForEvent(ch, 'secret');
    await sdk().trigger(name, 'secret', { ok: true });
    assert.deepEqual(await got, { ok: true });
  } finally {
    await close(p);
  }
});

test('private channel with a bad signature: subscription_error AuthError 401, no signature leak', async () => {
  const p = await connect(apps.main, { authSecret: 'not-the-secret' });
  try {
    const name = uniq('private');
    const all = frames(p);
    const raw = rawFrames(p);
    const err = await subscribeError(p, name);
    const correct = hmacHex(apps.main.secret, `${p.connection.socket_id}:${name}`);
    assertAuthError(err, correct);
    // wire shape: {"event":"pusher:subscription_error","channel":C,"data":"{\"type\":…,\"error\":…,\"status\":401}"}:
    // data is a JSON string (webman's push.js JSON.parses it), which pusher-js decoded into err above
    raw.stop();
    const f = JSON.parse(raw.frames.find((x) => x.includes('pusher:subscription_error')));
    assert.equal(f.channel, name);
    assert.equal(typeof f.data, 'string', `data should be a JSON string: ${JSON.stringify(f)}`);
    assert.deepEqual(Object.keys(JSON.parse(f.data)).sort(), ['error', 'status', 'type']);
    // nothing else on the connection mentions it either
    assert.ok(!JSON.stringify(all).includes(correct), 'a frame leaks the expected signature');
    // the connection stays usable
    assert.equal(p.connection.state, 'connected');
    const ok = await subscribe(p, uniq('pub-after-error'));
    assert.equal(ok.subscribed, true);
  } finally {
    await close(p);
  }
});

test('private channel with missing auth or another key: AuthError 401', async () => {
  const empty = await connect(apps.main, { channelAuth: () => ({ auth: '' }) });
  const otherKey = await connect(apps.main, {
    // the right HMAC, but signed "as" another app key
    channelAuth: ({ socketId, channelName }) => ({
      auth: `noid-key:${hmacHex(apps.main.secret, `${socketId}:${channelName}`)}`,
    }),
  });
  try {
    assertAuthError(await subscribeError(empty, uniq('private')));
    assertAuthError(await subscribeError(otherKey, uniq('private')));
  } finally {
    await close(empty);
    await close(otherKey);
  }
});

test('signature for another socket or channel is rejected', async () => {
  const p = await connect(apps.main, {
    channelAuth: ({ channelName }) => sdk().authorizeChannel('1.1', channelName),
  });
  const q = await connect(apps.main, {
    channelAuth: ({ socketId }) => sdk().authorizeChannel(socketId, 'private-some-other-channel'),
  });
  try {
    assertAuthError(await subscribeError(p, uniq('private')));
    assertAuthError(await subscribeError(q, uniq('private')));
  } finally {
    await close(p);
    await close(q);
  }
});

test('encrypted channel: SDK encrypts, server relays ciphertext, pusher-js decrypts', async () => {
  const p = await connect();
  try {
    const name = uniq('private-encrypted');
    const ch = await subscribe(p, name);
    const raw = rawFrames(p);
    const payload = { message: 'top secret plaintext marker 1f2e3d', n: 7 };
    const got = waitForEvent(ch, 'enc-event');
    const res = await sdk().trigger(name, 'enc-event', payload);
    assert.equal(res.status, 200);
    assert.deepEqual(await got, payload);
    raw.stop();
    const text = raw.frames.find((f) => f.includes('enc-event'));
    assert.ok(text, 'no raw frame for enc-event');
    assert.ok(!text.includes('1f2e3d'), `plaintext visible on the wire: ${text}`);
    const frame = JSON.parse(text);
    assert.equal(typeof frame.data, 'string');
    const inner = JSON.parse(frame.data);
    assert.deepEqual(Object.keys(inner).sort(), ['ciphertext', 'nonce']);
  } finally {
    await close(p);
  }
});

test('encrypted channel with a bad signature: AuthError 401', async () => {
  const p = await connect(apps.main, {
    channelAuth: ({ socketId, channelName }) => ({
      ...sdk().authorizeChannel(socketId, channelName),
      auth: `${apps.main.key}:${'0'.repeat(64)}`,
    }),
  });
  try {
    assertAuthError(await subscribeError(p, uniq('private-encrypted')));
  } finally {
    await close(p);
  }
});

test('invalid channel names: InvalidChannel 400', async () => {
  const p = await connect();
  try {
    for (const name of ['bad channel', 'bad!name', `long-${'x'.repeat(200)}`, 'ok#not']) {
      const err = await subscribeError(p, name);
      assert.equal(err.type, 'InvalidChannel', `${name}: ${JSON.stringify(err)}`);
      assert.equal(err.status, 400, `${name}: ${JSON.stringify(err)}`);
    }
    // pusher-js refuses to create '#' channels, so send the frame directly
    const all = frames(p);
    sendRaw(p, { event: 'pusher:subscribe', data: { channel: '#private-internal' } });
    const f = await waitForFrame(
      all,
      (ev) => ev.event === 'pusher:subscription_error' && ev.channel === '#private-internal',
      'subscription_error for #private-internal',
    );
    assert.equal(f.data.type, 'InvalidChannel', JSON.stringify(f));
    assert.equal(f.data.status, 400, JSON.stringify(f));
    assert.equal(p.connection.state, 'connected');
  } finally {
    await close(p);
  }
});

test('channel name of exactly 200 characters is accepted', async () => {
  const p = await connect();
  try {
    const base = uniq('len');
    const name = base + 'x'.repeat(200 - base.length);
    assert.equal(name.length, 200);
    await subscribe(p, name);
  } finally {
    await close(p);
  }
});

test('#server-to-user-{id} without signin: AuthError 401', async () => {
  const p = await connect();
  try {
    const all = frames(p);
    const name = `#server-to-user-${uniq('nobody')}`;
    sendRaw(p, { event: 'pusher:subscribe', data: { channel: name } });
    const f = await waitForFrame(
      all,
      (ev) => ev.event === 'pusher:subscription_error' && ev.channel === name,
      `subscription_error for ${name}`,
    );
    assert.equal(f.data.type, 'AuthError', JSON.stringify(f));
    assert.equal(f.data.status, 401, JSON.stringify(f));
  } finally {
    await close(p);
  }
});
