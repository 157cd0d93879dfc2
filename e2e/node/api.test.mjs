// HTTP API through the pusher SDK and hand-signed requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiBase,
  apps,
  close,
  connect,
  eventually,
  md5hex,
  sdk,
  sdkError,
  signedFetch,
  subscribe,
  uniq,
  waitForEvent,
} from './lib.mjs';

// r: {status, json} from sdkError or signedFetch.
function assertApiError(r, status, what = '') {
  assert.equal(r.status, status, `${what}: status ${r.status}, body ${r.body ?? r.text}`);
  assert.ok(r.json && typeof r.json === 'object', `${what}: error body is not JSON: ${r.body ?? r.text}`);
  assert.equal(typeof r.json.error, 'string', `${what}: no "error" string in ${r.body ?? r.text}`);
  assert.ok(r.json.error.length > 0, `${what}: empty error text`);
}

// The JSON body of a successful SDK call; a readable failure otherwise.
async function json(resPromise) {
  let res;
  try {
    res = await resPromise;
  } catch (e) {
    if (e.status !== undefined) throw new Error(`expected 200, got ${e.status} ${e.body} for ${e.url}`);
    throw e;
  }
  assert.equal(res.status, 200);
  return res.json();
}

const event = (channel, extra = {}) => ({ name: 'ev', data: '{"x":1}', channel, ...extra });

// ------------------------------------------------------------ channel info

test('GET /channels lists occupied channels only, filtered by prefix', async () => {
  const prefix = uniq('apich');
  const a = `${prefix}-a`;
  const b = `${prefix}-b`;
  const p = await connect();
  const q = await connect();
  try {
    await subscribe(p, a);
    await subscribe(p, b);
    await subscribe(q, b);
    // triggered but never subscribed: not occupied
    await sdk().trigger(`${prefix}-c`, 'ev', {});
    const body = await eventually(
      () => json(sdk().get({ path: '/channels', params: { filter_by_prefix: prefix } })),
      (x) => Object.keys(x.channels ?? {}).length >= 2,
      'two occupied channels',
    );
    assert.deepEqual(body, { channels: { [a]: {}, [b]: {} } });
    const all = await json(sdk().get({ path: '/channels' }));
    assert.ok(all.channels[a] && all.channels[b], JSON.stringify(all));
    assert.equal(all.channels[`${prefix}-c`], undefined);
    // after the subscribers leave, the channels are gone
    await close(p);
    await close(q);
    let left;
    for (let i = 0; i < 50; i++) {
      left = await json(sdk().get({ path: '/channels', params: { filter_by_prefix: prefix } }));
      if (Object.keys(left.channels).length === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(left, { channels: {} });
  } finally {
    await close(p);
    await close(q);
  }
});

test('GET /channels?filter_by_prefix=presence-&info=user_count counts users', async (t) => {
  const name = uniq('presence-api');
  const u = uniq('pu');
  const p1 = await connect(apps.main, { user: { id: u } });
  const p2 = await connect(apps.main, { user: { id: u } });
  try {
    await subscribe(p1, name);
    await subscribe(p2, name);
    const body = await eventually(
      () => json(sdk().get({ path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' } })),
      (x) => x.channels?.[name]?.user_count === 1,
      `${name} listed with user_count 1`,
    );
    assert.deepEqual(body.channels[name], { user_count: 1 }, JSON.stringify(body));
    const users = await eventually(
      () => json(sdk().get({ path: `/channels/${name}/users` })),
      (x) => x.users?.length === 1,
      'one user',
    );
    assert.deepEqual(users, { users: [{ id: u }] });
  } finally {
    await close(p1);
    await close(p2);
  }
});

test('GET /channels?info=user_count without the presence- prefix: 400', async () => {
  assertApiError(await sdkError(sdk().get({ path: '/channels', params: { info: 'user_count' } })), 400, 'user_count');
});

test('GET /channels/{name}?info=subscription_count', async () => {
  const name = uniq('apione');
  const p = await connect();
  const q = await connect();
  try {
    await subscribe(p, name);
    await subscribe(q, name);
    const body = await eventually(
      () => json(sdk().get({ path: `/channels/${name}`, params: { info: 'subscription_count' } })),
      (x) => x.subscription_count === 2,
      'subscription_count 2',
    );
    assert.deepEqual(body, { occupied: true, subscription_count: 2 });
    const plain = await json(sdk().get({ path: `/channels/${name}` }));
    assert.equal(plain.occupied, true);
    const empty = await json(sdk().get({ path: `/channels/${uniq('apinone')}` }));
    assert.equal(empty.occupied, false, JSON.stringify(empty));
    assert.equal(empty.cache, undefined);
  } finally {
    await close(p);
    await close(q);
  }
});

test('GET /channels/{cache-channel}?info=cache returns the cached event', async () => {
  const name = uniq('cache-api');
  await sdk().trigger(name, 'cached-ev', { price: 3 });
  const body = await json(sdk().get({ path: `/channels/${name}`, params: { info: 'cache' } }));
  assert.equal(body.occupied, false, JSON.stringify(body));
  assert.ok(body.cache, `no cache in ${JSON.stringify(body)}`);
  assert.equal(body.cache.event, 'cached-ev');
  assert.equal(body.cache.data, '{"price":3}');
  assert.equal(typeof body.cache.ttl, 'number');
  assert.ok(body.cache.ttl > 0 && body.cache.ttl <= 1800, `ttl ${body.cache.ttl}`);
  // an empty cache channel has no cache field
  const none = await json(sdk().get({ path: `/channels/${uniq('cache-api')}`, params: { info: 'cache' } }));
  assert.ok(none.cache === undefined || none.cache === null, JSON.stringify(none));
});

test('user_count on a non-presence channel and /users of a non-presence channel: 400', async () => {
  const name = uniq('apipub');
  assertApiError(
    await sdkError(sdk().get({ path: `/channels/${name}`, params: { info: 'user_count' } })),
    400,
    'channel info user_count',
  );
  assertApiError(await sdkError(sdk().get({ path: `/channels/${name}/users` })), 400, '/users');
  assertApiError(
    await sdkError(sdk().get({ path: `/channels/private-${name}/users` })),
    400,
    '/users on private',
  );
});

test('trigger with info=user_count on a public channel: 400', async () => {
  assertApiError(
    await sdkError(sdk().trigger(uniq('apipub'), 'ev', {}, { info: 'user_count' })),
    400,
    'trigger info user_count',
  );
});

// ------------------------------------------------------------ signing

test('hand-signed request with the current timestamp works (control)', async () => {
  const r = await signedFetch({ method: 'POST', path: `/apps/${apps.main.id}/events`, body: event(uniq('sig')) });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, {});
  const g = await signedFetch({ method: 'GET', path: `/apps/${apps.main.id}/channels` });
  assert.equal(g.status, 200, g.text);
});

test('wrong secret: 401', async () => {
  const bad = sdk({ ...apps.main, secret: 'wrong-secret' });
  assertApiError(await sdkError(bad.trigger(uniq('sig'), 'ev', {})), 401, 'wrong secret trigger');
  assertApiError(await sdkError(bad.get({ path: '/channels' })), 401, 'wrong secret get');
});

test('unknown auth_key: 401', async () => {
  const bad = sdk({ ...apps.main, key: 'no-such-key' });
  assertApiError(await sdkError(bad.trigger(uniq('sig'), 'ev', {})), 401, 'unknown key');
});

test('stale or future auth_timestamp: 401', async () => {
  const now = Math.floor(Date.now() / 1000);
  for (const ts of [now - 3600, now + 3600, now - 700]) {
    const r = await signedFetch({
      method: 'POST',
      path: `/apps/${apps.main.id}/events`,
      body: event(uniq('sig')),
      timestamp: ts,
    });
    assertApiError(r, 401, `timestamp ${ts - now}s`);
  }
  // within the 600 s window
  const ok = await signedFetch({
    method: 'POST',
    path: `/apps/${apps.main.id}/events`,
    body: event(uniq('sig')),
    timestamp: now - 300,
  });
  assert.equal(ok.status, 200, ok.text);
});

test('body_md5 mismatch (correctly signed): 401', async () => {
  const r = await signedFetch({
    method: 'POST',
    path: `/apps/${apps.main.id}/events`,
    body: event(uniq('sig')),
    bodyMd5: md5hex('some other body'),
  });
  assertApiError(r, 401, 'body_md5');
});

test('missing auth_signature or bad signature: 401', async () => {
  const path = `/apps/${apps.main.id}/events`;
  assertApiError(
    await signedFetch({ method: 'POST', path, body: event(uniq('sig')), omitSignature: true }),
    401,
    'no signature',
  );
  assertApiError(
    await signedFetch({ method: 'POST', path, body: event(uniq('sig')), signature: 'f'.repeat(64) }),
    401,
    'bad signature',
  );
  // the signature covers method and path
  assertApiError(
    await signedFetch({ method: 'POST', path, body: event(uniq('sig')), signMethod: 'GET' }),
    401,
    'signed for another method',
  );
  assertApiError(
    await signedFetch({ method: 'POST', path, body: event(uniq('sig')), signPath: `/apps/${apps.main.id}/batch_events` }),
    401,
    'signed for another path',
  );
});

// ------------------------------------------------------------ input limits

test('data over 10240 bytes: 413; exactly 10240: 200', async () => {
  assertApiError(await sdkError(sdk().trigger(uniq('big'), 'ev', 'x'.repeat(10241))), 413, '10241 bytes');
  const ok = await sdk().trigger(uniq('big'), 'ev', 'x'.repeat(10240));
  assert.equal(ok.status, 200);
});

test('101 channels: 400; 100 channels: 200', async () => {
  const path = `/apps/${apps.main.id}/events`;
  const chans = (n) => Array.from({ length: n }, (_, i) => `many-${i}-${process.pid}`);
  assertApiError(
    await signedFetch({ method: 'POST', path, body: { name: 'ev', data: '{}', channels: chans(101) } }),
    400,
    '101 channels',
  );
  const ok = await signedFetch({ method: 'POST', path, body: { name: 'ev', data: '{}', channels: chans(100) } });
  assert.equal(ok.status, 200, ok.text);
});

test('invalid channel names and bad bodies: 400', async () => {
  const path = `/apps/${apps.main.id}/events`;
  const cases = {
    'space in name': { name: 'ev', data: '{}', channels: ['bad channel'] },
    'bang in name': { name: 'ev', data: '{}', channel: 'bad!name' },
    'too long name': { name: 'ev', data: '{}', channels: ['x'.repeat(201)] },
    'hash channel': { name: 'ev', data: '{}', channels: ['#private'] },
    'no channel': { name: 'ev', data: '{}' },
    'no name': { data: '{}', channels: ['ok'] },
    'event name too long': { name: 'e'.repeat(201), data: '{}', channels: ['ok'] },
  };
  for (const [what, body] of Object.entries(cases)) {
    assertApiError(await signedFetch({ method: 'POST', path, body }), 400, what);
  }
  assertApiError(await signedFetch({ method: 'POST', path, body: '{not json' }), 400, 'malformed JSON');
});

test('batch over 10 events: 400', async () => {
  const batch = Array.from({ length: 11 }, (_, i) => event(`batch-${i}-${process.pid}`));
  assertApiError(
    await signedFetch({ method: 'POST', path: `/apps/${apps.main.id}/batch_events`, body: { batch } }),
    400,
    '11 batch events',
  );
});

// ------------------------------------------------------------ routing

test('unknown path: 404; wrong app id: 404; wrong method: 405', async () => {
  assertApiError(await sdkError(sdk().get({ path: '/no-such-thing' })), 404, 'unknown path');
  assertApiError(await sdkError(sdk({ ...apps.main, id: '99' }).trigger(uniq('x'), 'ev', {})), 404, 'app id 99');
  assertApiError(await signedFetch({ method: 'GET', path: `/apps/${apps.main.id}/events` }), 405, 'GET /events');
});

test('disabled app (off-key): 403', async () => {
  assertApiError(await sdkError(sdk(apps.off).trigger(uniq('off'), 'ev', {})), 403, 'off trigger');
  assertApiError(await sdkError(sdk(apps.off).get({ path: '/channels' })), 403, 'off get');
});

test('readyz and healthz answer 200 without signing', async () => {
  const r = await fetch(`${apiBase}/readyz`, { signal: AbortSignal.timeout(5000) });
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { status: 'ok' });
  const h = await fetch(`${apiBase}/healthz`, { signal: AbortSignal.timeout(5000) });
  assert.equal(h.status, 200);
});

// ------------------------------------------------------------ webman compatibility

test('webman: SDK with appId 1024 and noid-key triggers; pusher-js on noid-key receives', async () => {
  const p = await connect(apps.noid);
  try {
    const name = uniq('webman');
    const ch = await subscribe(p, name);
    const got = waitForEvent(ch, 'msg');
    const res = await sdk(apps.noid).trigger(name, 'msg', { content: 'hello webman' });
    assert.equal(res.status, 200);
    assert.deepEqual(await got, { content: 'hello webman' });
    // any id works for an app without id
    const got2 = waitForEvent(ch, 'msg2');
    await sdk({ ...apps.noid, id: '7' }).trigger(name, 'msg2', 'x');
    assert.equal(await got2, 'x');
    const info = await eventually(
      () => json(sdk(apps.noid).get({ path: `/channels/${name}`, params: { info: 'subscription_count' } })),
      (x) => x.subscription_count === 1,
      'subscription_count 1',
    );
    assert.deepEqual(info, { occupied: true, subscription_count: 1 });
    // apps are separate: app-key's API does not see noid-key's channels
    const other = await json(sdk().get({ path: `/channels/${name}` }));
    assert.equal(other.occupied, false);
  } finally {
    await close(p);
  }
});

// ------------------------------------------------------------ per-app limits (small-key)

test('small-key: 4 channels 400, 3 ok; batch of 3 400, 2 ok; data 101 bytes 413, 100 ok', async () => {
  const s = sdk(apps.small);
  const ch = (n) => Array.from({ length: n }, () => uniq('small'));
  assertApiError(await sdkError(s.trigger(ch(4), 'ev', {})), 400, '4 channels');
  assert.equal((await s.trigger(ch(3), 'ev', {})).status, 200);
  const batch = (n) => ch(n).map((c) => ({ channel: c, name: 'ev', data: {} }));
  assertApiError(await sdkError(s.triggerBatch(batch(3))), 400, 'batch of 3');
  assert.equal((await s.triggerBatch(batch(2))).status, 200);
  assertApiError(await sdkError(s.trigger(uniq('small'), 'ev', 'y'.repeat(101))), 413, '101 bytes');
  assert.equal((await s.trigger(uniq('small'), 'ev', 'y'.repeat(100))).status, 200);
  // a batch item over the limit is 413 as well
  assertApiError(
    await sdkError(s.triggerBatch([{ channel: uniq('small'), name: 'ev', data: 'z'.repeat(101) }])),
    413,
    'batch item 101 bytes',
  );
});
