package e2e

// Clustered mode against a real NATS cluster (issue 4): three nats-server
// processes with JetStream and three pushd gateways with every seed in
// nats_url. Helpers are in natscluster_helpers_test.go; presence in depth on
// several gateways is cluster_presence_test.go's.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestNATSClusterFanout: every event triggered through any gateway's API
// reaches a client on every gateway exactly once and in stream order; client
// events cross gateways; presence and occupancy are the same everywhere; and
// the streams and buckets have 3 replicas on the 3-node cluster.
func TestNATSClusterFanout(t *testing.T) {
	nc := startNATSCluster(t, 3)
	// All three at once on the fresh cluster, as a deployment starts them:
	// they race to create the same streams and buckets.
	gws := clusterGateways(t, nc, 3)

	t.Run("replicas", func(t *testing.T) {
		_, js := nc.connect(t)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		found := map[string]int{}
		names := js.StreamNames(ctx)
		for name := range names.Name() {
			st, err := js.Stream(ctx, name)
			if err != nil {
				t.Fatalf("stream %s: %v", name, err)
			}
			info, err := st.Info(ctx)
			if err != nil {
				t.Fatalf("stream info %s: %v", name, err)
			}
			peers := 0
			if info.Cluster != nil {
				peers = 1 + len(info.Cluster.Replicas)
			}
			found[name] = info.Config.Replicas
			if info.Config.Replicas != 3 || peers != 3 {
				t.Errorf("stream %s: %d replicas configured, %d peers; want 3 and 3", name, info.Config.Replicas, peers)
			}
		}
		if err := names.Err(); err != nil {
			t.Fatalf("list streams: %v", err)
		}
		for _, want := range []string{"PUSHD_app-key", "KV_PUSHD_PRESENCE"} {
			if _, ok := found[want]; !ok {
				t.Errorf("stream %s missing; streams: %v", want, found)
			}
		}
		t.Logf("streams and replicas: %v", found)
	})

	t.Run("events", func(t *testing.T) {
		chans := []string{"fan-a", "fan-b"}
		var cs []*rawClient
		for _, g := range gws {
			c, _ := connect(t, g, "app-key")
			subscribeAll(t, c, chans...)
			cs = append(cs, c)
		}
		// 300 events: one publisher per gateway API, each alternating the
		// two channels, all three at once.
		const perAPI = 100
		var wg sync.WaitGroup
		failed := make(chan string, 3*perAPI)
		for p, g := range gws {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; k < perAPI; k++ {
					body := fmt.Sprintf(`{"name":"fan","channel":%q,"data":"p%d-%03d"}`, chans[k%2], p, k)
					if st := apiStatus(http.DefaultClient, g, body); st != http.StatusOK {
						failed <- fmt.Sprintf("p%d-%03d: %d", p, k, st)
					}
				}
			}()
		}
		wg.Wait()
		close(failed)
		for f := range failed {
			t.Errorf("trigger %s, want 200", f)
		}
		for i, c := range cs {
			evs := collectUntil(t, c, "fan", 60*time.Second, func(e []clusterEvent) bool { return len(e) >= 3*perAPI })
			who := "client on gateway " + strconv.Itoa(i)
			checkOrder(t, who, evs)
			// each publisher's events on each channel arrive in the order it sent them
			lastK := map[string]int{}
			for _, e := range evs {
				var p, k int
				if _, err := fmt.Sscanf(e.Data, "p%d-%d", &p, &k); err != nil {
					t.Fatalf("%s: unexpected data %q", who, e.Data)
				}
				if k%2 != map[string]int{"fan-a": 0, "fan-b": 1}[e.Channel] {
					t.Fatalf("%s: %q on the wrong channel %s", who, e.Data, e.Channel)
				}
				key := e.Channel + strconv.Itoa(p)
				if prev, ok := lastK[key]; ok && k <= prev {
					t.Fatalf("%s: publisher %d's %d after %d on %s", who, p, k, prev, e.Channel)
				}
				lastK[key] = k
			}
			c.expectNothing(300 * time.Millisecond) // nothing twice
		}
	})

	t.Run("client events", func(t *testing.T) {
		const ch = "private-cross"
		var cs []*rawClient
		for _, g := range gws {
			c, sid := connect(t, g, "app-key")
			subscribePrivate(t, c, sid, ch)
			cs = append(cs, c)
		}
		send := func(from int) {
			cs[from].send(fmt.Sprintf(`{"event":"client-hi","channel":%q,"data":{"from":%d}}`, ch, from))
		}
		expectFrom := func(c *rawClient, from int) {
			t.Helper()
			f := c.expect("client-hi")
			if want := fmt.Sprintf(`{"from":%d}`, from); f.Channel != ch || f.dataString(t) != want {
				t.Fatalf("client event %s, want data %s on %s", f.raw, want, ch)
			}
		}
		send(0)
		expectFrom(cs[1], 0)
		expectFrom(cs[2], 0)
		send(2)
		expectFrom(cs[0], 2) // and not its own first
		expectFrom(cs[1], 2)
		cs[2].expectNothing(300 * time.Millisecond)
	})

	t.Run("presence and occupancy", func(t *testing.T) {
		const room = "presence-everywhere"
		var ms []*rawClient
		for i, g := range gws {
			c, sid := connect(t, g, "app-key")
			subscribeAll(t, c, "occ")
			pd := joinPresence(t, c, sid, "app-key", "app-secret", room, "u"+strconv.Itoa(i), "")
			if pd.Count != i+1 {
				t.Fatalf("u%d on gateway %d sees %+v, want %d members", i, i, pd, i+1)
			}
			for _, m := range ms {
				memberEvent(t, m, "pusher_internal:member_added", room, "u"+strconv.Itoa(i))
			}
			ms = append(ms, c)
		}
		state := func(users, subs string) func() string {
			return func() string {
				for i, g := range gws {
					p := gwChannel(t, g, room, "user_count,subscription_count")
					f := gwChannel(t, g, "occ", "subscription_count")
					got := fmt.Sprintf("%s users=%v subs=%v; occ occupied=%v subs=%v", room, p["user_count"], p["subscription_count"], f["occupied"], f["subscription_count"])
					if want := fmt.Sprintf("%s users=%s subs=%s; occ occupied=true subs=%s", room, users, subs, subs); got != want {
						return fmt.Sprintf("gateway %d: %s, want %s", i, got, want)
					}
				}
				return ""
			}
		}
		eventually(t, "counts on every gateway", 10*time.Second, state("3", "3"))
		ms[1].conn.WriteClose(1000, nil)
		memberEvent(t, ms[0], "pusher_internal:member_removed", room, "u1")
		memberEvent(t, ms[2], "pusher_internal:member_removed", room, "u1")
		eventually(t, "counts after u1 left", 10*time.Second, state("2", "2"))
	})
}

// TestNATSClusterNATSNodeKill: NATS faults during a steady publish (50
// events/s round-robin over the three APIs), in three phases: gateway 2 cut
// from NATS for 1 s (it must fill the gap from the stream), kill -9 of a
// NATS node holding gateway connections, and (after it came back) kill -9
// of the stream's leader. Every event answered 200 is in the stream exactly
// once afterwards (only 200 or 503 are answered), the live client on every
// gateway receives every one of them once and in order, and a client that
// left before the faults resumes on another gateway with nothing missing.
func TestNATSClusterNATSNodeKill(t *testing.T) {
	t.Parallel() // mostly waits (timeouts, delays, a peer dying): runs beside the others
	nc := startNATSCluster(t, 3)
	// Gateway 2 reaches the three nodes through proxies the test can cut.
	var proxies []*rrBalancer
	var via []string
	for _, n := range nc.Nodes {
		p := startBalancer(t, "127.0.0.1:"+strconv.Itoa(n.Port))
		proxies = append(proxies, p)
		via = append(via, "nats://"+p.Addr())
	}
	gws := launchGateways(t, nc.URLs(), nc.URLs(), strings.Join(via, ","))
	chans := []string{"steady-a", "steady-b"}
	var live []*rawClient
	for _, g := range gws {
		c, _ := connect(t, g, "app-key")
		subscribeAll(t, c, chans...)
		live = append(live, c)
	}
	resumer, resumerSID := connect(t, gws[0], "app-key")
	subscribeAll(t, resumer, chans[0])

	_, njs := nc.connect(t)
	streamCluster := func() *jetstream.ClusterInfo {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if st, err := njs.Stream(ctx, "PUSHD_app-key"); err == nil {
			if info, err := st.Info(ctx); err == nil && info.Cluster != nil {
				return info.Cluster
			}
		}
		return &jetstream.ClusterInfo{}
	}

	// 50 events/s, round-robin over the APIs and the channels, with the
	// phase's fault after 1 s.
	ok := map[string]string{} // data -> channel of every event answered 200
	resumerGone := false
	hc := &http.Client{Timeout: 20 * time.Second}
	load := func(phase string, base, total int, fault func()) {
		const every = 20 * time.Millisecond
		status := make([]int, total)
		var wg sync.WaitGroup
		tick := time.NewTicker(every)
		var faultAt time.Time
		for i := 0; i < total; i++ {
			<-tick.C
			if base == 0 && !resumerGone && (i >= 25 && len(resumer.frames) > 0 || i == total-1) {
				// The resumer goes away before the first failover, once it
				// has an event to resume from (on a NATS cluster a gateway's
				// first events can come late: its interest spreads to the
				// stream's leader after the subscribe, and the missed events
				// are read from the stream a second later).
				resumer.conn.WriteClose(1000, nil)
				resumerGone = true
			}
			if i == 50 {
				faultAt = time.Now()
				fault()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := fmt.Sprintf(`{"name":"ev","channel":%q,"data":"e%04d"}`, chans[i%2], base+i)
				status[i] = apiStatus(hc, gws[i%3], body)
			}()
		}
		tick.Stop()
		wg.Wait()
		codes := map[int]int{}
		var first200 time.Duration = -1
		for i, st := range status {
			codes[st]++
			if st == http.StatusOK {
				ok[fmt.Sprintf("e%04d", base+i)] = chans[i%2]
				if i > 50 && first200 < 0 {
					first200 = time.Duration(i-50) * every
				}
			}
			if st != http.StatusOK && st != http.StatusServiceUnavailable {
				t.Errorf("%s: status %d: only 200 or 503 may be answered", phase, st)
			}
		}
		t.Logf("%s at %s: statuses %v; first 200 triggered %s after it", phase,
			faultAt.Format("15:04:05.000"), codes, first200)
	}

	// Phase 0: gateway 2 loses NATS for 1 s (its connections cut, new ones
	// refused): it misses what the others store meanwhile and must fill the
	// gap from the stream when the next event arrives.
	load("gateway 2 cut from NATS for 1 s", 0, 150, func() {
		cutAll(proxies, time.Second)
	})
	eventually(t, "gateway 2 fills its gap from the stream", 15*time.Second, func() string {
		if !strings.Contains(gws[2].log.String(), "filled a gap") {
			return "no gap fill logged"
		}
		return ""
	})

	// Phase 1: a node that holds gateway connections but not the stream's
	// leadership: those gateways reconnect to another seed.
	ci := streamCluster()
	var victim *natsNode
	for _, n := range nc.Nodes {
		if n.Name != ci.Leader && (victim == nil || n.pushdConns() > victim.pushdConns()) {
			victim = n
		}
	}
	t.Logf("phase 1: victim %s holds %d gateway connections (stream leader %s)", victim.Name, victim.pushdConns(), ci.Leader)
	load("kill -9 of follower "+victim.Name, 150, 300, victim.kill)

	// It comes back (same store) and catches up before the second kill.
	victim.start(t, natsServerBin(t))
	nc.waitJetStream(t, 60*time.Second)
	eventually(t, "restarted node current again", 60*time.Second, func() string {
		ci := streamCluster()
		if ci.Leader == "" || len(ci.Replicas) != 2 {
			return fmt.Sprintf("%+v", ci)
		}
		for _, r := range ci.Replicas {
			if !r.Current || r.Offline {
				return fmt.Sprintf("replica %s current=%v offline=%v", r.Name, r.Current, r.Offline)
			}
		}
		return ""
	})

	// Phase 2: the stream leader: the stream elects a new one (NATS waits
	// for the election timeout, a few seconds: 503s meanwhile).
	ci = streamCluster()
	for _, n := range nc.Nodes {
		if n.Name == ci.Leader {
			victim = n
		}
	}
	t.Logf("phase 2: victim %s (stream leader) holds %d gateway connections", victim.Name, victim.pushdConns())
	load("kill -9 of stream leader "+victim.Name, 450, 600, victim.kill) // 12 s: past the election

	// One more event per gateway and channel once the cluster answers again:
	// it makes each gateway fill whatever gap the reconnect left.
	nc.waitJetStream(t, 30*time.Second)
	for g := range gws {
		for _, ch := range chans {
			data := fmt.Sprintf("s%d-%s", g, ch)
			eventually(t, "sentinel "+data+" stored", 30*time.Second, func() string {
				if st := apiStatus(hc, gws[g], fmt.Sprintf(`{"name":"ev","channel":%q,"data":%q}`, ch, data)); st != http.StatusOK {
					return "status " + strconv.Itoa(st)
				}
				return ""
			})
			ok[data] = ch
		}
	}

	// The stream holds every 200'd event exactly once.
	_, js := nc.connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "PUSHD_app-key")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("read stream seq %d: %v", seq, err)
		}
		var f struct{ Data string }
		json.Unmarshal(m.Data, &f)
		stored[f.Data]++
	}
	for data := range ok {
		if stored[data] != 1 {
			t.Errorf("event %s answered 200 is stored %d times, want 1", data, stored[data])
		}
	}
	t.Logf("stream: %d messages, %d answered 200, %d stored though not answered 200", info.State.Msgs, len(ok), len(stored)-len(ok))

	// Every live client received every 200'd event once, in order.
	for i, c := range live {
		who := "client on gateway " + strconv.Itoa(i)
		evs := collectUntil(t, c, "ev", 60*time.Second, func(e []clusterEvent) bool {
			n := 0
			for _, ev := range e {
				if strings.HasPrefix(ev.Data, "s") {
					n++
				}
			}
			return n == len(gws)*len(chans)
		})
		checkOrder(t, who, evs)
		got := map[string]bool{}
		for _, e := range evs {
			if stored[e.Data] == 0 {
				t.Errorf("%s received %s, which the stream does not hold", who, e.Data)
			}
			got[e.Data] = true
		}
		var missing []string
		for data := range ok {
			if !got[data] {
				missing = append(missing, data)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("%s missed %d events answered 200: %v", who, len(missing), missing)
		}
	}
	var filled int
	for _, g := range gws {
		filled += strings.Count(g.log.String(), "filled a gap")
	}
	t.Logf("gap fills logged by the gateways: %d", filled)
	for i, g := range gws {
		for _, l := range strings.Split(g.log.String(), "\n") {
			if strings.Contains(l, "nats ") || strings.Contains(l, "gap") {
				t.Logf("gateway %d: %s", i, l)
			}
		}
	}
	if n := strings.Count(gws[0].log.String()+gws[1].log.String()+gws[2].log.String(), "nats disconnected"); n == 0 {
		t.Errorf("no gateway lost its NATS connection: the kill did not test a failover")
	}

	// The resumer comes back on another gateway from the last event it saw.
	var seen []clusterEvent
	for len(resumer.frames) > 0 {
		var f frame
		b := <-resumer.frames
		json.Unmarshal(b, &f)
		if f.Event == "ev" {
			f.raw = b
			seen = append(seen, clusterEvent{Channel: f.Channel, Data: f.dataString(t), Seq: seqOf(t, f)})
		}
	}
	if len(seen) == 0 {
		t.Fatal("the resumer saw no event before it left")
	}
	r2, _ := connect(t, gws[2], "app-key")
	subscribeResume(r2, chans[0], seen[len(seen)-1].Seq, resumerSID)
	r2.expect("pusher_internal:subscription_succeeded")
	sentinel := "s2-" + chans[0]
	resumed := collectUntil(t, r2, "ev", 30*time.Second, func(e []clusterEvent) bool {
		return len(e) > 0 && e[len(e)-1].Data == sentinel
	})
	all := append(append([]clusterEvent(nil), seen...), resumed...)
	checkOrder(t, "resumer", all)
	got := map[string]bool{}
	for _, e := range all {
		got[e.Data] = true
	}
	for data, ch := range ok {
		if ch == chans[0] && !got[data] {
			t.Errorf("resumer missed %s (saw %d before leaving, %d on resume)", data, len(seen), len(resumed))
		}
	}
}

// memberChanges reads c's frames until every wanted "added/removed user"
// change on ch arrived; a removal nobody expected fails. Other frames are
// skipped.
func memberChanges(t *testing.T, c *rawClient, ch string, deadline time.Time, want ...string) {
	t.Helper()
	need := map[string]bool{}
	for _, w := range want {
		need[w] = true
	}
	for len(need) > 0 {
		select {
		case b := <-c.frames:
			var f frame
			json.Unmarshal(b, &f)
			f.raw = b
			kind := strings.TrimPrefix(f.Event, "pusher_internal:member_")
			if kind == f.Event || f.Channel != ch {
				continue
			}
			var d struct {
				UserID string `json:"user_id"`
			}
			json.Unmarshal([]byte(f.dataString(t)), &d)
			k := kind + " " + d.UserID
			if !need[k] && kind == "removed" {
				t.Fatalf("unexpected %s", b)
			}
			delete(need, k)
		case code := <-c.closed:
			t.Fatalf("observer closed (%d) while waiting for %v", code, need)
		case <-time.After(time.Until(deadline)):
			t.Fatalf("still waiting for %v", need)
		}
	}
}

// TestNATSClusterGatewayKill: kill -9 of one gateway behind the balancer.
// Its raw clients reconnect to the other gateways, its pusher-js clients
// come back by themselves and receive new events, and its members
// disappear on every other gateway within 15 s.
func TestNATSClusterGatewayKill(t *testing.T) {
	t.Parallel() // mostly waits (timeouts, delays, a peer dying): runs beside the others
	nc := startNATSCluster(t, 3)
	gws := clusterGateways(t, nc, 3)
	const room = "presence-lobby"
	const victim = 1
	var obs []*rawClient
	for i, g := range gws {
		c, sid := connect(t, g, "app-key")
		joinPresence(t, c, sid, "app-key", "app-secret", room, "obs-"+strconv.Itoa(i), "")
		obs = append(obs, c)
	}
	bal := startBalancer(t, gws[0].WSAddr, gws[1].WSAddr, gws[2].WSAddr)
	var raws []*rawClient
	var joined []string
	for i := 0; i < 6; i++ {
		c := dialRaw(t, "ws://"+bal.Addr()+"/app/app-key?protocol=7")
		user := "raw-" + strconv.Itoa(i)
		joinPresence(t, c, c.established(), "app-key", "app-secret", room, user, "")
		raws = append(raws, c)
		joined = append(joined, "added "+user)
	}
	order := bal.Order()
	var gone []string // members that were only on the victim
	for i, be := range order[:6] {
		if be == victim {
			gone = append(gone, "raw-"+strconv.Itoa(i))
		}
	}
	if len(gone) != 2 {
		t.Fatalf("balancer order %v: want 2 of 6 raw clients on gateway %d", order, victim)
	}
	for _, i := range []int{0, 2} {
		memberChanges(t, obs[i], room, time.Now().Add(10*time.Second), joined...)
	}

	// pusher-js clients behind the same balancer
	env := append(gws[0].nodeEnv(), "PUSHD_WS_PORT="+strings.Split(bal.Addr(), ":")[1], "MODE=kill", "CLIENTS=3", "CHANNEL=kill-moving")
	js := startNodeScript(t, 90*time.Second, env, "natscluster_move.mjs")
	js.expect("READY", 30*time.Second)
	pjOnVictim := bal.Active(victim) - len(gone)

	gws[victim].kill(t)
	killed := time.Now()
	js.send("GO " + strconv.Itoa(pjOnVictim))

	// The victim's raw clients lose their connection and get a new one from
	// another gateway through the balancer.
	for i, c := range raws {
		if order[i] != victim {
			continue
		}
		select {
		case <-c.closed:
		case <-time.After(10 * time.Second):
			t.Fatalf("raw-%d's connection survived the kill of its gateway", i)
		}
		n := dialRaw(t, "ws://"+bal.Addr()+"/app/app-key?protocol=7")
		n.established()
		if o := bal.Order(); o[len(o)-1] == victim {
			t.Fatalf("the balancer sent raw-%d back to the dead gateway", i)
		}
	}

	// Its members disappear on the others within 15 s.
	var removed []string
	for _, u := range append(gone, "obs-1") {
		removed = append(removed, "removed "+u)
	}
	for _, i := range []int{0, 2} {
		memberChanges(t, obs[i], room, killed.Add(15*time.Second), removed...)
	}
	t.Logf("members of the killed gateway removed everywhere after %s", time.Since(killed).Round(10*time.Millisecond))
	want := map[string]bool{"obs-0": true, "obs-2": true}
	for i := range raws {
		if order[i] != victim {
			want["raw-"+strconv.Itoa(i)] = true
		}
	}
	for _, i := range []int{0, 2} {
		if got := gwUsers(t, gws[i], room); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("gateway %d lists %v, want %v", i, got, want)
		}
		if c := gwChannel(t, gws[i], room, "user_count"); fmt.Sprint(c["user_count"]) != strconv.Itoa(len(want)) {
			t.Errorf("gateway %d user_count %v, want %d", i, c["user_count"], len(want))
		}
	}

	res := js.expect("RESULT", 60*time.Second)
	t.Logf("pusher-js: %s", res)
	js.wait(20 * time.Second)
}

// TestNATSClusterGatewaySIGTERM: SIGTERM to one gateway behind the
// balancer. Its pusher-js clients get close 4200, reconnect at once to
// another gateway, resubscribe, and keep receiving events; the app sees
// nothing but the 4200 close report and no other client is disturbed.
func TestNATSClusterGatewaySIGTERM(t *testing.T) {
	t.Parallel() // mostly waits (timeouts, delays, a peer dying): runs beside the others
	nc := startNATSCluster(t, 3)
	gws := clusterGateways(t, nc, 3)
	const victim = 2
	bal := startBalancer(t, gws[0].WSAddr, gws[1].WSAddr, gws[2].WSAddr)
	env := append(gws[0].nodeEnv(), "PUSHD_WS_PORT="+strings.Split(bal.Addr(), ":")[1], "MODE=sigterm", "CLIENTS=6", "CHANNEL=drain-moving")
	js := startNodeScript(t, 90*time.Second, env, "natscluster_move.mjs")
	js.expect("READY", 30*time.Second)
	k := bal.Active(victim)
	if k != 2 {
		t.Fatalf("%d pusher-js clients on gateway %d, want 2 of 6 (order %v)", k, victim, bal.Order())
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		gws[victim].stop(t)
	}()
	js.send("GO " + strconv.Itoa(k))
	res := js.expect("RESULT", 60*time.Second)
	t.Logf("pusher-js: %s", res)
	js.wait(20 * time.Second)
	<-stopped
	if code := gws[victim].cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("drained gateway exited with %d, want 0", code)
	}
	if n := bal.Active(victim); n != 0 {
		t.Errorf("%d connections still on the drained gateway", n)
	}
}
