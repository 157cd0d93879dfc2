// pusher-js clients behind a load balancer while one gateway goes away.
//
// Run by e2e/natscluster_test.go (not by `node --test`): PUSHD_WS_* point at
// the test's TCP round-robin balancer in front of three gateways, PUSHD_API_*
// at a gateway that stays up. Line protocol on stdout ("@@ " lines) and
// stdin:
//   script: @@ READY <socket ids>          (CLIENTS clients connected and subscribed)
//   test:   GO <k>                          (a gateway holding k of them was stopped)
//   script: @@ RESULT <json>                then exits 0 when every check held
//
// MODE=sigterm: the k clients must see close 4200 (pusher-js reports it on
// connection 'error' as {code: 4200}; nothing else may reach the app), come
// back at once (no back-off), resubscribe, and every client must receive
// every event triggered after the move, once and in order.
// MODE=kill: the gateway died (kill -9): the k clients must come back by
// themselves and receive every event triggered after the move.

import readline from 'node:readline';
import { apps, client, connected, subscribe, sdk, closeAll, errorCode, waitUntil, sleep } from './lib.mjs';

const MODE = process.env.MODE ?? 'sigterm';
const N = Number(process.env.CLIENTS ?? 6);
const CHANNEL = process.env.CHANNEL ?? 'moving';
const EVENTS = 20;

const say = (kind, obj) => console.log(`@@ ${kind} ${obj === undefined ? '' : JSON.stringify(obj)}`);

const lines = readline.createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once('line', resolve));

const problems = [];
const clients = [];
for (let i = 0; i < N; i++) {
  // one after the other, so the balancer spreads them round-robin
  const p = client(apps.main);
  await connected(p, 8000);
  const rec = { p, first: p.connection.socket_id, got: [], subErrors: [], drops: [], backAt: [] };
  p.connection.bind('state_change', ({ previous, current }) => {
    if (previous === 'connected') rec.drops.push(Date.now());
    if (current === 'connected' && rec.drops.length) rec.backAt.push(Date.now());
  });
  const ch = await subscribe(p, CHANNEL, 8000);
  ch.bind('ev', (d) => rec.got.push(d.n));
  ch.bind('pusher:subscription_error', (e) => rec.subErrors.push(e));
  clients.push(rec);
}
say('READY', clients.map((c) => c.first));

const go = await nextLine();
const k = Number(go.split(' ')[1]);
const movedNow = () => clients.filter((c) => c.p.connection.socket_id !== c.first);
try {
  await waitUntil(
    () =>
      movedNow().length >= k &&
      clients.every((c) => c.p.connection.state === 'connected' && c.p.channel(CHANNEL)?.subscribed),
    `${k} clients back and resubscribed (moved ${movedNow().length}, states ${clients.map((c) => c.p.connection.state)})`,
    10000,
  );
} catch (e) {
  problems.push(e.message);
}

// events triggered after the move reach every client, once, in order
const api = sdk(apps.main);
for (let n = 0; n < EVENTS && !problems.length; n++) {
  await api.trigger(CHANNEL, 'ev', { n });
}
if (!problems.length) {
  try {
    await waitUntil(() => clients.every((c) => c.got.length >= EVENTS), 'every event on every client', 10000);
  } catch (e) {
    problems.push(e.message);
  }
  await sleep(200); // a duplicate would show up here
}

const result = clients.map((c, i) => {
  const moved = c.p.connection.socket_id !== c.first;
  const codes = c.p.errors.map(errorCode);
  const out = {
    i,
    moved,
    states: c.p.states,
    errorCodes: codes,
    reconnectMs: moved && c.drops.length && c.backAt.length ? c.backAt[0] - c.drops[0] : null,
    got: c.got.length,
  };
  const want = Array.from({ length: EVENTS }, (_, n) => n);
  if (JSON.stringify(c.got) !== JSON.stringify(want)) problems.push(`client ${i} got ${JSON.stringify(c.got)}`);
  if (c.subErrors.length) problems.push(`client ${i} subscription errors ${JSON.stringify(c.subErrors)}`);
  if (c.p.states.some((s) => s === 'failed' || s === 'unavailable' || s === 'disconnected')) {
    problems.push(`client ${i} went through ${c.p.states}`);
  }
  if (!moved && codes.length) problems.push(`client ${i} did not move but saw errors ${JSON.stringify(c.p.errors)}`);
  if (MODE === 'sigterm' && moved) {
    if (!codes.length || codes.some((code) => code !== 4200)) {
      problems.push(`client ${i}: errors ${JSON.stringify(c.p.errors)}, want only the close code 4200`);
    }
    if (out.reconnectMs === null || out.reconnectMs > 2500) {
      problems.push(`client ${i} reconnected after ${out.reconnectMs} ms, want at once (4200 means no back-off)`);
    }
  }
  return out;
});
if (movedNow().length !== k) problems.push(`${movedNow().length} clients moved, want ${k}`);
say('RESULT', { problems, clients: result });
await closeAll();
process.exit(problems.length ? 1 : 0);
