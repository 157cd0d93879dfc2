// pushd-resume with Laravel Echo 2 on pusher-js 8, both broadcasters Echo
// offers for a Pusher-protocol server: 'pusher' with the Pusher instance
// given, and 'reverb', where Echo creates it. Run by e2e/pusherjs_test.go
// (TestPusherJSResumeEcho).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import Echo from 'laravel-echo';
import { enableResume } from 'pushd-resume';
import {
  apps, client, connected, sdk, uniq, waitUntil, startProxy, Pusher, assertAllInOrder, cutDuringFlow,
} from './lib.mjs';

test('Laravel Echo (broadcaster pusher, client given) on a private channel: a 5 s cut while 1,000 events flow loses none', async () => {
  const proxy = await startProxy();
  const p = client(apps.main, { pusherOptions: { wsPort: proxy.port } });
  enableResume(p);
  const echo = new Echo({ broadcaster: 'pusher', client: p });
  await connected(p);
  const name = uniq('orders');
  const got = [];
  const failed = [];
  let subscribed = false;
  echo.private(name)
    .listen('.n', (d) => got.push(d.n))
    .listen('.pushd:resume_failed', (info) => failed.push(info))
    .subscribed(() => { subscribed = true; });
  await waitUntil(() => subscribed, `subscription to private-${name}`);
  await cutDuringFlow({ p, proxy, api: sdk(), channel: `private-${name}`, count: 1000, rate: 200, got, cutMs: 5000 });
  assertAllInOrder(got, 1000, 'Echo private channel after a 5 s cut');
  assert.deepEqual(failed, []);
  echo.disconnect();
});

test('Laravel Echo (broadcaster reverb) on a presence channel resumes, and the member list is fresh', async () => {
  const proxy = await startProxy();
  const signer = sdk();
  const echo = new Echo({
    broadcaster: 'reverb', key: apps.main.key, wsHost: '127.0.0.1', wsPort: proxy.port, forceTLS: false,
    enabledTransports: ['ws'], disableStats: true, Pusher,
    channelAuthorization: {
      customHandler: (params, cb) => cb(null, signer.authorizeChannel(params.socketId, params.channelName,
        { user_id: 'alice', user_info: { name: 'Alice' } })),
    },
  });
  const p = echo.connector.pusher;
  p.errors = [];
  enableResume(p);
  try {
    await connected(p);
    const name = uniq('room');
    const got = [];
    const here = [];
    echo.join(name).here((members) => here.push(members.map((m) => m.name))).listen('.n', (d) => got.push(d.n));
    await waitUntil(() => here.length === 1, `presence-${name} joined`);
    await cutDuringFlow({ p, proxy, api: signer, channel: `presence-${name}`, count: 300, rate: 200, got, cutAfter: 50, cutMs: 1500 });
    assertAllInOrder(got, 300, 'Echo reverb presence channel after a cut');
    assert.deepEqual(here, [['Alice'], ['Alice']], 'here() runs again with the member list after the resume');
  } finally {
    echo.disconnect();
  }
});

