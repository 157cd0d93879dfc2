// The error frames as webman/push's own push.js reads them, against the real
// server. webman's file cannot be shipped here, so webmanOnMessage below
// mirrors, step by step, the onMessage handler that webman push.js's
// Push.prototype.createConnection gives its Connection (webman-php/push,
// src/push.js): JSON.parse the frame; on pusher:error `throw
// Error(params.data.message)`; otherwise `JSON.parse(params.data)` and emit
// the event on the channel. The socket is opened as webman's Connection.connect
// does: url + '/app/' + app_key, no query string.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { channelAuth, env, uniq, waitUntil, wsURL } from './lib.mjs';

/** webman push.js's message handling (see the file comment); emit(channel, event, data). */
function webmanOnMessage(raw, emit) {
  const params = JSON.parse(raw);
  const event = params.event;
  if (event === 'pusher:pong') return;
  if (event === 'pusher:error') throw Error(params.data.message);
  const data = JSON.parse(params.data);
  emit(params.channel, event, data);
}

/** Opens a socket the way webman's Connection does and runs every frame through webmanOnMessage. */
function webmanSocket(key = env.key) {
  const s = { events: [], thrown: [], ws: new WebSocket(`${wsURL}/app/${key}`) };
  s.ws.on('message', (m) => {
    try {
      webmanOnMessage(m.toString(), (channel, event, data) => s.events.push({ channel, event, data }));
    } catch (e) {
      s.thrown.push(e);
    }
  });
  s.ws.on('close', (code) => (s.closed = code));
  return s;
}

test('webman push.js parse path: a refused private subscription is an event, nothing is thrown', async () => {
  const s = webmanSocket();
  try {
    await waitUntil(() => s.events.find((e) => e.event === 'pusher:connection_established'), 'connection_established');
    const socketId = s.events[0].data.socket_id;
    const name = uniq('private-webman');
    s.ws.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel: name, auth: `${env.key}:${'0'.repeat(64)}` } }));
    const err = await waitUntil(() => s.events.find((e) => e.event === 'pusher:subscription_error'), 'subscription_error');
    assert.deepEqual(s.thrown.map(String), [], 'webman push.js would throw');
    assert.equal(err.channel, name);
    assert.equal(err.data.type, 'AuthError');
    assert.equal(err.data.status, 401);
    assert.equal(typeof err.data.error, 'string');
    // and a good signature still subscribes on the same socket
    s.ws.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel: name, auth: channelAuth(socketId, name) } }));
    await waitUntil(() => s.events.find((e) => e.event === 'pusher_internal:subscription_succeeded'), 'subscription_succeeded');
    assert.deepEqual(s.thrown.map(String), []);
  } finally {
    s.ws.close();
  }
});

test('webman push.js parse path: pusher:error is thrown by webman itself, with the server message (data stays an object)', async () => {
  const s = webmanSocket('no-such-key');
  await waitUntil(() => s.closed, 'close');
  assert.equal(s.closed, 4001);
  // webman's push.js throws on every pusher:error by design; what matters is
  // that it reads data.message rather than failing to parse.
  assert.equal(s.thrown.length, 1);
  assert.ok(!/JSON/.test(s.thrown[0].message), `a parse failure: ${s.thrown[0].message}`);
  assert.ok(s.thrown[0].message.length > 0, 'the thrown Error carries the server message');
});
