// A gap the server cannot fill: the events a client missed are older than
// the app's stream keeps (history_max_age, 6 s on this test's server). The
// channel gets pushd:resume_failed with the first position still stored,
// never a silent hole, and the history API reads what is kept from there.
// The server keeps no window of recent events (resume_window_bytes: -1):
// with one, a node that kept receiving the channel answers the resume from
// memory, events aged out of the stream included, and there is no gap.
// Run by e2e/pusherjs_test.go (TestPusherJSResumeGap).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enableResume } from 'pushd-resume';
import {
  apps, client, connected, subscribe, sdk, uniq, sleep, waitUntil, collect, startProxy, signedFetch,
} from './lib.mjs';

/** A page of the channel's stored events after a position. */
async function history(channel, afterSeq) {
  const r = await signedFetch({ path: `/apps/${apps.main.id}/channels/${channel}/events`, query: { after_seq: afterSeq } });
  assert.equal(r.status, 200, `history of ${channel}: ${r.status} ${r.text}`);
  return r.json;
}

test('a gap older than the stream keeps yields pushd:resume_failed with the first position still stored', async () => {
  const proxy = await startProxy();
  const p = client(apps.main, { pusherOptions: { wsPort: proxy.port } });
  const resume = enableResume(p);
  const reported = [];
  enableResume(p, { onResumeFailed: () => reported.push('ignored: a second call returns the first handle') });
  await connected(p);
  const name = uniq('gap');
  const ch = await subscribe(p, name);
  const got = [];
  ch.bind('n', (d) => got.push(d.n));
  const failed = collect(ch, 'pushd:resume_failed');
  const api = sdk();
  await api.trigger(name, 'n', { n: 'seen' });
  await waitUntil(() => got.length === 1, 'the first event');
  const from = resume.position(name);

  proxy.cut();
  await waitUntil(() => !p.connection.connection, 'the client to notice the cut', 3000);
  await api.trigger(name, 'n', { n: 'lost' });
  // Both events age out of the stream (history_max_age 6 s); the wait is
  // bounded, polled through the history API.
  const limit = Date.now() + 25000;
  while ((await history(name, 0)).events.length > 0) {
    assert.ok(Date.now() < limit, 'the events did not age out of the stream within 25 s');
    await sleep(200);
  }
  await api.trigger(name, 'n', { n: 'kept-1' });
  await api.trigger(name, 'n', { n: 'kept-2' });
  const kept = await history(name, 0);
  assert.deepEqual(kept.events.map((e) => JSON.parse(e.data).n), ['kept-1', 'kept-2']);
  proxy.heal();

  const info = await waitUntil(() => failed[0], 'pushd:resume_failed', 10000);
  assert.deepEqual(info, { channel: name, from, first_seq: kept.events[0].seq, seq: kept.events[1].seq },
    `resume_failed ${JSON.stringify(info)}; kept ${JSON.stringify(kept)}`);
  assert.ok(info.first_seq > from + 1, 'first_seq beyond from + 1: events were lost for good');
  assert.equal(kept.first_seq, info.first_seq, "the history API's first_seq is the same position");
  assert.deepEqual(reported, []);
  // The app reloads: the history API has every event still kept.
  const fill = await history(name, info.first_seq - 1);
  assert.deepEqual(fill.events.map((e) => JSON.parse(e.data).n), ['kept-1', 'kept-2']);
  // Live events continue after the server's position, which the channel
  // took; what was kept is not sent on the socket (the app read it).
  assert.equal(resume.position(name), info.seq);
  await api.trigger(name, 'n', { n: 'live' });
  await waitUntil(() => got.includes('live'), 'the live event after the failed resume');
  await sleep(200);
  assert.deepEqual(got, ['seen', 'live']);
  assert.equal(failed.length, 1);
});
