// push.js's reconnect rules, loaded through require() as CommonJS: close
// codes against the real server (4001 unknown key, 4003 disabled app) and,
// with a scripted WebSocket, the code ranges of the protocol: 4000-4099 stop,
// 4100-4199 back off (≥ 1 s), 4200-4299 reconnect at once, others back off.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { assetBase, sleep, waitUntil, wsURL } from './lib.mjs';

let Push;
before(async () => {
  const res = await fetch(`${assetBase}/push.js`);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pushd-cjs-')), 'push.cjs');
  fs.writeFileSync(file, await res.text());
  Push = createRequire(import.meta.url)(file);
  assert.equal(typeof Push, 'function');
});

const all = [];
after(() => all.forEach((p) => p.disconnect()));

function watch(p) {
  all.push(p);
  p.states = [];
  p.errors = [];
  p.connection.on('state_change', (s) => p.states.push(s.current));
  p.connection.on('error', (e) => p.errors.push(e));
  return p;
}

for (const [key, code] of [['no-such-key', 4001], ['off-key', 4003]]) {
  test(`real server: ${key} closes with ${code}, the client stops and emits the error`, async () => {
    let opened = 0;
    class Counting extends WebSocket {
      constructor(url) {
        super(url);
        opened++;
      }
    }
    const p = watch(new Push({ url: wsURL, app_key: key, WebSocket: Counting, reconnectDelay: 10 }));
    await waitUntil(() => p.errors.some((e) => e.data.code === code) && p.connection.state === 'disconnected', `error ${code}`);
    await sleep(300);
    assert.equal(opened, 1, 'no reconnect after a 4000-4099 close');
    assert.equal(p.connection.state, 'disconnected');
  });
}

// FakeSocket connects "instantly", says connection_established (unless
// established is false), and closes with the code the test scripts.
function scripted(codes, established = true) {
  const opens = [];
  class FakeSocket {
    constructor(url) {
      this.url = url;
      opens.push(Date.now());
      setTimeout(() => {
        this.onopen?.({});
        if (established) this.onmessage?.({ data: JSON.stringify({ event: 'pusher:connection_established', data: JSON.stringify({ socket_id: `1.${opens.length}`, activity_timeout: 120 }) }) });
        const code = codes.shift();
        if (code !== undefined) setTimeout(() => this.onclose?.({ code, reason: 'scripted' }), 5);
      }, 1);
    }
    send() {}
    close() {}
  }
  return { FakeSocket, opens };
}

test('4200-4299: reconnect at once', async () => {
  const { FakeSocket, opens } = scripted([4200]);
  const p = watch(new Push({ url: 'ws://x', app_key: 'k', WebSocket: FakeSocket }));
  await waitUntil(() => opens.length === 2 && p.connection.state === 'connected', 'second connection');
  assert.ok(opens[1] - opens[0] < 200, `reconnected after ${opens[1] - opens[0]} ms`);
  p.disconnect();
});

test('4100-4199: back off at least 1 s, and emit the error', async () => {
  const { FakeSocket, opens } = scripted([4100]);
  const p = watch(new Push({ url: 'ws://x', app_key: 'k', WebSocket: FakeSocket, reconnectDelay: 10 }));
  await waitUntil(() => opens.length === 2, 'second connection', 4000);
  assert.ok(opens[1] - opens[0] >= 1000, `reconnected after ${opens[1] - opens[0]} ms`);
  assert.ok(p.errors.some((e) => e.data.code === 4100));
  p.disconnect();
});

test('1006 and other codes: exponential back-off with jitter while connecting fails', async () => {
  const { FakeSocket, opens } = scripted([1006, 1006, 1006, 1006, 1006], false);
  const p = watch(new Push({ url: 'ws://x', app_key: 'k', WebSocket: FakeSocket, reconnectDelay: 100, maxReconnectDelay: 300 }));
  await waitUntil(() => opens.length === 5, 'five attempts', 5000);
  const gaps = opens.slice(1).map((t, i) => t - opens[i]);
  // ceilings 100, 200, 300, 300: each gap in [ceiling/2, ceiling + slack]
  [100, 200, 300, 300].forEach((c, i) => assert.ok(gaps[i] >= c / 2 - 5 && gaps[i] <= c + 120, `gap ${i} ${gaps[i]} ms for ceiling ${c}`));
  assert.deepEqual(p.states.slice(0, 3), ['connecting', 'disconnected', 'connecting']);
  p.disconnect();
  assert.equal(p.connection.state, 'disconnected');
});

test('heartbeat: ping after silence, reconnect when nothing answers', async () => {
  const sent = [];
  const { FakeSocket, opens } = scripted([]);
  FakeSocket.prototype.send = (t) => sent.push(JSON.parse(t).event);
  const p = watch(new Push({ url: 'ws://x', app_key: 'k', WebSocket: FakeSocket, heartbeat: 100, pingTimeout: 100, reconnectDelay: 10 }));
  await waitUntil(() => opens.length >= 2, 'reconnect after the pong timeout', 3000);
  assert.equal(sent[0], 'pusher:ping');
  p.disconnect();
});
