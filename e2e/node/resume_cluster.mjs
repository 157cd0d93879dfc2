// pusher-js with pushd-resume behind a load balancer in front of two
// gateways: its link is cut for 5 s while 1,000 events flow at 200/s, and
// it comes back through the balancer on the other gateway, which has never
// served the channel (no window: the stream is read).
//
// Run by e2e/resume_cluster_test.go (not by `node --test`): PUSHD_WS_* point
// at the test's round-robin balancer, PUSHD_API_* at the first gateway. The
// client connects through a proxy of its own in front of the balancer (the
// cut: lib.mjs startProxy), so that after the cut its new connection is the
// balancer's second, which goes to the other gateway. Line protocol:
//   script: @@ READY {"socket":id}      (connected and subscribed)
//   test:   GO
//   script: @@ RESULT {"problems":[…],"before":id,"after":id,"received":n,"back_ms":ms}
// and exits 0 when every check held.

import readline from 'node:readline';
import { enableResume } from 'pushd-resume';
import {
  apps, client, connected, subscribe, sdk, uniq, collect, startProxy, cutDuringFlow, assertAllInOrder, closeAll,
} from './lib.mjs';

const say = (kind, obj) => console.log(`@@ ${kind} ${JSON.stringify(obj)}`);
const lines = readline.createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once('line', resolve));

const proxy = await startProxy();
const p = client(apps.main, { pusherOptions: { wsPort: proxy.port } });
enableResume(p);
await connected(p, 8000);
const channel = `private-${uniq('cluster')}`;
const ch = await subscribe(p, channel, 8000);
const got = [];
ch.bind('n', (d) => got.push(d.n));
const failed = collect(ch, 'pushd:resume_failed');
const before = p.connection.socket_id;
say('READY', { socket: before });

await nextLine();
const problems = [];
let back = 0;
try {
  ({ back } = await cutDuringFlow({ p, proxy, api: sdk(), channel, count: 1000, rate: 200, got, cutMs: 5000 }));
  assertAllInOrder(got, 1000, 'after moving to the other gateway');
} catch (e) {
  problems.push(e.message);
}
if (failed.length) problems.push(`pushd:resume_failed: ${JSON.stringify(failed)}`);
say('RESULT', { problems, before, after: p.connection.socket_id, received: got.length, back_ms: back });
await closeAll();
await proxy.close();
lines.close();
process.exit(problems.length ? 1 : 0);
