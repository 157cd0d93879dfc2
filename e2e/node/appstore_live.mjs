// An app created at run time, with the real pusher-js client and the `pusher`
// server SDK, across two gateways on one nats-server.
//
// Run by e2e/appstore_test.go (not by `node --test`): PUSHD_WS_* point at
// gateway B, PUSHD_API_* at gateway A, PUSHD_API_B_PORT at B's API. Line
// protocol on stdout ("@@ " lines) and stdin:
//   script: @@ READY
//   test:   GO {"id","key","secret"}       (the app was just created through A's admin API)
//   script: @@ LIVE {"ms"}                 (a client connected to B with the new key, subscribed, and
//                                           received an event triggered with the SDK through A)
//   test:   ROTATED {"secret"}             (B's admin API rotated the secret, with a grace period)
//   script: @@ GRACE {...}                 (the old secret still signs API calls and channel auth)
//   test:   WATCH
//   script: @@ WATCHING
//   test:   (deletes the app)
//   script: @@ GONE {"code"}               (the pusher-js client saw 4001), then exits 0

import readline from 'node:readline';
import { client, connected, subscribe, sdk, closeAll, close, errorCode, waitUntil, waitForEvent, sleep, env } from './lib.mjs';

const say = (kind, obj) => console.log(`@@ ${kind} ${obj === undefined ? '' : JSON.stringify(obj)}`);
const lines = readline.createInterface({ input: process.stdin });
const queue = [];
let waiting = null;
lines.on('line', (l) => {
  if (waiting) {
    const w = waiting;
    waiting = null;
    w(l);
  } else queue.push(l);
});
const nextLine = () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((resolve) => (waiting = resolve)));
async function expectLine(prefix) {
  const l = await nextLine();
  if (!l.startsWith(prefix)) throw new Error(`want ${prefix}, got ${l}`);
  const rest = l.slice(prefix.length).trim();
  return rest ? JSON.parse(rest) : undefined;
}

const apiB = { host: env.apiHost, port: Number(process.env.PUSHD_API_B_PORT) };

try {
  say('READY');
  const app = await expectLine('GO');
  const go = Date.now();

  // Connect to B with the new key until B knows the app (a client refused
  // with 4001 does not retry by itself: a new one is made), within 1 s.
  let p;
  for (let attempt = 1; ; attempt++) {
    const left = 1000 - (Date.now() - go);
    if (left <= 0) throw new Error(`no connection to gateway B with the new key within 1 s (${attempt - 1} attempts)`);
    p = client(app);
    try {
      await connected(p, left);
      break;
    } catch (e) {
      const codes = p.errors.map(errorCode);
      await close(p);
      if (!codes.includes(4001) && Date.now() - go < 1000) throw e;
      await sleep(10);
    }
  }
  const ms = Date.now() - go;
  const live = await subscribe(p, 'private-live');
  const got = waitForEvent(live, 'hello', 5000);
  await sdk(app).trigger('private-live', 'hello', { n: 1 });
  const d = await got;
  if (d.n !== 1) throw new Error(`event data ${JSON.stringify(d)}`);
  say('LIVE', { ms });

  // Rotation: during the grace period the old secret signs API calls (through
  // both gateways) and channel authorisations, and the new one does too.
  const { secret } = await expectLine('ROTATED');
  const oldApp = app;
  const newApp = { ...app, secret };
  const oldSub = client(app, { authSecret: app.secret }); // a new client authorised with the old secret
  await connected(oldSub);
  const old = await subscribe(oldSub, 'private-old');
  const oldGot = waitForEvent(old, 'still', 5000);
  await sdk(oldApp, apiB).trigger('private-old', 'still', { via: 'old secret, gateway B' });
  await oldGot;
  const liveGot = waitForEvent(live, 'rotated', 5000);
  await sdk(newApp).trigger('private-live', 'rotated', { via: 'new secret, gateway A' });
  await liveGot;
  const newSub = client(newApp);
  await connected(newSub);
  await subscribe(newSub, 'private-new');
  say('GRACE', { old_secret: 'accepted', new_secret: 'accepted' });
  await close(oldSub);
  await close(newSub);

  // Delete: the connected pusher-js client is closed with 4001.
  await expectLine('WATCH');
  say('WATCHING');
  const code = await waitUntil(() => p.errors.map(errorCode).find((c) => c === 4001), 'error 4001 on the deleted app', 5000);
  await waitUntil(() => p.connection.state !== 'connected', 'the connection of the deleted app closed', 5000);
  say('GONE', { code, state: p.connection.state });
  await closeAll();
  lines.close();
  process.exit(0);
} catch (e) {
  console.error(e.stack || String(e));
  await closeAll();
  process.exit(1);
}
