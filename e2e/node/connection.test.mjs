// Connection handshake, refusals and liveness as pusher-js 8 sees them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apps,
  client,
  close,
  connect,
  connected,
  errorCode,
  frames,
  rawFrames,
  sendRaw,
  sleep,
  subscribe,
  uniq,
  waitForErrorCode,
  waitUntil,
} from './lib.mjs';

// A client whose connection is refused: resolves with the client once the
// given code was reported and the client has settled (not connected).
async function refused(app, code) {
  const p = client(app);
  try {
    await waitUntil(
      () => p.errors.some((e) => errorCode(e) === code),
      `error code ${code} for key ${app.key} (errors: ${JSON.stringify(p.errors)}, states: ${p.states})`,
      8000,
    );
    // pusher-js maps 4000-4099 to "refused": it stops and goes disconnected
    await waitUntil(() => p.connection.state === 'disconnected', `state disconnected (now ${p.connection.state})`, 3000);
    return p;
  } finally {
    await close(p);
  }
}

test('connects; socket_id looks like N.N and state is connected', async () => {
  const p = await connect(apps.main);
  try {
    assert.equal(p.connection.state, 'connected');
    assert.match(p.connection.socket_id, /^\d+\.\d+$/);
    assert.deepEqual(p.errors, []);
  } finally {
    await close(p);
  }
});

test('two connections get different socket ids', async () => {
  const a = await connect(apps.main);
  const b = await connect(apps.main);
  try {
    assert.notEqual(a.connection.socket_id, b.connection.socket_id);
  } finally {
    await close(a);
    await close(b);
  }
});

test('disabled app (off-key): error 4003, never connected, no reconnect', async () => {
  const p = await refused(apps.off, 4003);
  assert.ok(!p.states.includes('connected'), `states: ${p.states}`);
  // the handshake frame is a pusher:error {code:4003}: pusher-js reports it
  // as {type:'WebSocketError', error:{type:'PusherError', data:{code:4003}}}
  const e = p.errors.find((x) => errorCode(x) === 4003);
  assert.equal(typeof (e.error?.data?.message ?? e.data?.message ?? ''), 'string');
});

test('unknown app key: error 4001, never connected', async () => {
  const p = await refused({ ...apps.main, key: 'no-such-key' }, 4001);
  assert.ok(!p.states.includes('connected'), `states: ${p.states}`);
});

test('connection over max_connections (small-key, 2): third gets 4004', async () => {
  const a = await connect(apps.small);
  const b = await connect(apps.small);
  try {
    const p = await refused(apps.small, 4004);
    assert.ok(!p.states.includes('connected'), `states: ${p.states}`);
    // the first two are unaffected
    assert.equal(a.connection.state, 'connected');
    assert.equal(b.connection.state, 'connected');
  } finally {
    await close(a);
    await close(b);
  }
  // a slot is free again once one disconnects
  await sleep(300);
  const c = client(apps.small);
  try {
    await connected(c, 5000);
  } finally {
    await close(c);
  }
});

test('small-key app (activity_timeout 1 s): stays connected for 4 s across ping/pong', async () => {
  const p = client(apps.small);
  let pings = 0;
  let pongs = 0;
  // count protocol-level pusher:ping / pusher:pong frames in both directions
  p.connection.bind('message', (ev) => {
    if (ev.event === 'pusher:pong') pongs++;
    if (ev.event === 'pusher:ping') pings++;
  });
  try {
    await connected(p);
    // the handshake told pusher-js activity_timeout 1 s
    assert.equal(p.connection.activityTimeout, 1000);
    const socketId = p.connection.socket_id;
    await sleep(4000);
    assert.equal(p.connection.state, 'connected');
    assert.equal(p.connection.socket_id, socketId, 'reconnected with a new socket id');
    // (the first 'connecting' happens inside the constructor, before the
    // client() helper starts recording)
    assert.deepEqual(p.states, ['connected'], `states: ${p.states}`);
    assert.deepEqual(p.errors, []);
    // pusher-js pings after 1 s of silence (the server may ping first and get
    // a pusher:pong instead); either way several round trips happened
    assert.ok(pings + pongs >= 2, `only ${pings} pings and ${pongs} pongs from the server in 4 s`);
  } finally {
    await close(p);
  }
});

test('default app announces activity_timeout 120 s', async () => {
  const p = await connect(apps.main);
  try {
    // pusher-js takes min(its own default 120 s, server value)
    assert.equal(p.connection.activityTimeout, 120000);
  } finally {
    await close(p);
  }
});

test('path other than /app/{key}: 4005', async () => {
  // wsPath is prepended by pusher-js: ws://host:port/nope/app/app-key?protocol=7...
  const p = client(apps.main, { pusherOptions: { wsPath: '/nope' } });
  try {
    await waitForErrorCode(p, 4005, 8000);
    await waitUntil(() => p.connection.state === 'disconnected', `state disconnected (now ${p.connection.state})`, 3000);
    assert.ok(!p.states.includes('connected'), `states: ${p.states}`);
  } finally {
    await close(p);
  }
});

test('pusher:ping is answered with pusher:pong data "{}"', async () => {
  const p = await connect();
  try {
    const raw = rawFrames(p);
    sendRaw(p, { event: 'pusher:ping', data: {} });
    await waitUntil(() => raw.frames.some((f) => f.includes('pusher:pong')), 'pusher:pong frame', 3000);
    raw.stop();
    const pong = JSON.parse(raw.frames.find((f) => f.includes('pusher:pong')));
    assert.deepEqual(pong, { event: 'pusher:pong', data: '{}' });
  } finally {
    await close(p);
  }
});

test('bad frames get pusher:error 4300 and the connection stays open', async () => {
  const p = await connect();
  try {
    const socketId = p.connection.socket_id;
    const bad = [
      '{not json',
      JSON.stringify({ data: {} }), // no event name
      JSON.stringify({ event: 'pusher:no_such_thing', data: {} }),
      JSON.stringify({ event: 'not-a-client-event', channel: 'x', data: {} }),
    ];
    for (const [i, frame] of bad.entries()) {
      sendRaw(p, frame);
      await waitUntil(
        () => p.errors.filter((e) => errorCode(e) === 4300).length >= i + 1,
        `4300 #${i + 1} for ${frame} (errors: ${JSON.stringify(p.errors)})`,
        3000,
      );
    }
    await sleep(200);
    assert.equal(p.connection.state, 'connected');
    assert.equal(p.connection.socket_id, socketId);
    // and it still works
    await subscribe(p, uniq('after-bad'));
  } finally {
    await close(p);
  }
});

test('frame over 64 KiB: closed with 1009, pusher-js reconnects', async () => {
  const p = await connect();
  try {
    const first = p.connection.socket_id;
    sendRaw(p, JSON.stringify({ event: 'pusher:ping', data: { pad: 'x'.repeat(70 * 1024) } }));
    await waitForErrorCode(p, 1009, 5000);
    // a close code below 4000 (other than 1002-1004) is not fatal for
    // pusher-js: it reconnects after ~1 s with a new socket id
    await waitUntil(
      () => p.connection.state === 'connected' && p.connection.socket_id !== first,
      `reconnect (state ${p.connection.state}, states ${p.states})`,
      8000,
    );
  } finally {
    await close(p);
  }
});

test('silent client (small-key): server pusher:ping, then close 4201; pusher-js reconnects', async () => {
  const p = await connect(apps.small);
  try {
    const first = p.connection.socket_id;
    const got = frames(p);
    // drop everything this connection would send (pusher-js's own pings and
    // its pongs to the server's pings)
    const transport = p.connection.connection.transport;
    transport.send = () => true;
    // activity_timeout 1 s + pong_timeout 2 s
    await waitForErrorCode(p, 4201, 8000);
    const ping = got.find((ev) => ev.event === 'pusher:ping');
    assert.ok(ping, `no pusher:ping from the server before 4201: ${JSON.stringify(got)}`);
    // 4200-4299: pusher-js reconnects at once
    await waitUntil(
      () => p.connection.state === 'connected' && p.connection.socket_id !== first,
      `reconnect after 4201 (state ${p.connection.state})`,
      8000,
    );
  } finally {
    await close(p);
  }
});

test('server ping frame is {"event":"pusher:ping","data":"{}"}', async () => {
  const p = await connect(apps.small);
  try {
    const raw = rawFrames(p);
    p.connection.connection.transport.send = () => true;
    await waitUntil(() => raw.frames.some((f) => f.includes('pusher:ping')), 'pusher:ping from the server', 5000);
    raw.stop();
    assert.deepEqual(JSON.parse(raw.frames.find((f) => f.includes('pusher:ping'))), { event: 'pusher:ping', data: '{}' });
  } finally {
    await close(p);
  }
});
