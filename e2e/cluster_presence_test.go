package e2e

import (
	"encoding/json"

	"github.com/pushd/pushd/gateway/protocol"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Three pushd processes on one NATS (the first one's embedded server, with
// a client listener): presence, occupancy and webhooks are cluster-wide, and
// kill -9 of a node removes its members everywhere, once.
// ../shared/PROTOCOL.md A.5 (C28-C30, C33) and A.14 (C81, C84) on three nodes.

// startCluster starts n nodes with the same apps; the first runs NATS.
func startCluster(t *testing.T, n int, apps string) []*server {
	t.Helper()
	natsAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	nodes := []*server{startPushdWith(t, apps, "--nats-listen", natsAddr)}
	for len(nodes) < n {
		nodes = append(nodes, startPushdWith(t, apps, "--nats-url", nodes[0].natsListenURL(t)))
	}
	return nodes
}

// users reads a presence channel's user ids from the users endpoint, sorted.
func users(t *testing.T, s *server, ch string) []string {
	t.Helper()
	status, body := apiCall(t, s, hookKey, hookSecret, http.MethodGet, "/apps/1/channels/"+ch+"/users", nil, "")
	if status != http.StatusOK {
		t.Fatalf("users of %s on %s: %d %s", ch, s.APIAddr, status, body)
	}
	var d struct {
		Users []struct {
			ID string `json:"id"`
		} `json:"users"`
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatalf("users body %s: %v", body, err)
	}
	var ids []string
	for _, u := range d.Users {
		ids = append(ids, u.ID)
	}
	sort.Strings(ids)
	return ids
}

// clusterState is what one node's API says about the test's channels.
func clusterState(t *testing.T, s *server, presenceCh string, public ...string) string {
	t.Helper()
	m := channelInfo(t, s, hookKey, hookSecret, "1", presenceCh, "user_count,subscription_count")
	out := presenceCh + " occupied=" + fmtAny(m["occupied"]) + " users=" + fmtAny(m["user_count"]) +
		" subs=" + fmtAny(m["subscription_count"]) + " ids=" + strings.Join(users(t, s, presenceCh), ",")
	for _, ch := range public {
		m := channelInfo(t, s, hookKey, hookSecret, "1", ch, "subscription_count")
		out += "; " + ch + " occupied=" + fmtAny(m["occupied"]) + " subs=" + fmtAny(m["subscription_count"])
	}
	return out
}

func fmtAny(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// waitState waits (bounded) until every node's API reports want.
func waitState(t *testing.T, nodes []*server, want string, presenceCh string, public ...string) {
	t.Helper()
	for i, s := range nodes {
		var last string
		deadline := time.Now().Add(15 * time.Second)
		for {
			last = clusterState(t, s, presenceCh, public...)
			if last == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %d (%s) reports\n  %s\nwant\n  %s", i, s.APIAddr, last, want)
			}
			time.Sleep(50 * time.Millisecond) // polling interval of a bounded wait
		}
	}
}

// channelList reads GET /apps/1/channels with a prefix and info=user_count.
func channelList(t *testing.T, s *server, prefix string) string {
	t.Helper()
	status, body := apiCall(t, s, hookKey, hookSecret, http.MethodGet, "/apps/1/channels",
		url.Values{"filter_by_prefix": {prefix}, "info": {"user_count"}}, "")
	if status != http.StatusOK {
		t.Fatalf("channel list on %s: %d %s", s.APIAddr, status, body)
	}
	return body
}

// memberFrames reads c's frames until want member events arrived (each
// "event user" once), or fails after within. It fails on any other frame
// and returns when each arrived.
func memberFrames(t *testing.T, c *rawClient, ch string, within time.Duration, want ...string) map[string]time.Time {
	t.Helper()
	got := map[string]time.Time{}
	deadline := time.After(within)
	for len(got) < len(want) {
		select {
		case b := <-c.frames:
			var f frame
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatalf("invalid frame %s", b)
			}
			f.raw = b
			var d struct {
				UserID string `json:"user_id"`
			}
			if f.Event == "pusher_internal:member_added" || f.Event == "pusher_internal:member_removed" {
				json.Unmarshal([]byte(f.dataString(t)), &d)
			}
			k := strings.TrimPrefix(f.Event, "pusher_internal:") + " " + d.UserID
			wanted := false
			for _, w := range want {
				wanted = wanted || w == k
			}
			if !wanted && f.Event == "pusher_internal:member_added" && listedTo[c][d.UserID] {
				t.Fatalf("duplicate member_added of %s, who was in this subscriber's list: %s", d.UserID, b)
			}
			if !wanted || f.Channel != ch {
				t.Fatalf("frame %s, want only %v on %s", b, want, ch)
			}
			if _, dup := got[k]; dup {
				t.Fatalf("second %s: %s", k, b)
			}
			got[k] = time.Now()
		case code := <-c.closed:
			t.Fatalf("connection closed (%d) while waiting for %v", code, want)
		case <-deadline:
			t.Fatalf("after %s got %v, want %v", within, got, want)
		}
	}
	return got
}

// listedTo records, per subscriber, the users its subscription_succeeded
// list named (tests run one at a time).
var listedTo = map[*rawClient]map[string]bool{}

// settle checks a new member's list: every user of others it lacks must
// follow as member_added (a list that lags by a few ms is completed).
func settle(t *testing.T, c *rawClient, ch string, pd presenceData, others ...string) {
	t.Helper()
	if listedTo[c] == nil {
		listedTo[c] = map[string]bool{}
	}
	for u := range pd.Hash {
		listedTo[c][u] = true
	}
	var late []string
	for _, u := range others {
		if _, ok := pd.Hash[u]; !ok {
			late = append(late, "member_added "+u)
		}
	}
	if len(pd.IDs) != len(pd.Hash) || pd.Count != len(pd.IDs) {
		t.Fatalf("presence data %+v: ids, hash and count disagree", pd)
	}
	if len(late) > 0 {
		t.Logf("list %v lacked %v; waiting for their member_added", pd.IDs, late)
		memberFrames(t, c, ch, 5*time.Second, late...)
	}
}

func TestClusterPresenceAndWebhooks(t *testing.T) {
	t.Parallel() // mostly waits (timeouts, delays, a peer dying): runs beside the others
	r := newHookReceiver(t, map[string]string{hookKey: hookSecret, webmanKey: webmanSec})
	t.Cleanup(r.checkSigned)
	nodes := startCluster(t, 3, hookApps(r, "/cluster")) // one webhook URL for every node
	A, B, C := nodes[0], nodes[1], nodes[2]
	const (
		ch     = "presence-cluster"
		conly  = "presence-conly" // members on C only
		shared = "pub-shared"     // subscribers on A and C
		pubC   = "pub-conly"      // subscribers on C only
	)

	// A member on A is seen by subscribers on B and C. (A node's list may
	// lag a just-joined member by a few ms; the member_added that follows
	// then completes it: settle. A member both listed and then announced
	// is a duplicate, and fails in memberFrames.)
	sb, sbID := connect(t, B, hookKey)
	joinPresence(t, sb, sbID, hookKey, hookSecret, ch, "ub", `{"node":"B"}`)
	sc1, sc1ID := connect(t, C, hookKey)
	pd := joinPresence(t, sc1, sc1ID, hookKey, hookSecret, ch, "uc1", `{"node":"C"}`)
	settle(t, sc1, ch, pd, "ub")
	memberFrames(t, sb, ch, 5*time.Second, "member_added uc1")
	sa, saID := connect(t, A, hookKey)
	pd = joinPresence(t, sa, saID, hookKey, hookSecret, ch, "ua", `{"node":"A"}`)
	settle(t, sa, ch, pd, "ub", "uc1")
	if info, ok := pd.Hash["ub"]; ok && string(info) != `{"node":"B"}` {
		t.Fatalf("ua on A sees ub's user_info %s, want {\"node\":\"B\"}", info)
	}
	memberFrames(t, sb, ch, 5*time.Second, "member_added ua")
	memberFrames(t, sc1, ch, 5*time.Second, "member_added ua")

	// A second tab of uc1 on C is no new member; uc2's join is the next
	// thing everybody sees (a member_added of uc1 would come first).
	sc1b, sc1bID := connect(t, C, hookKey)
	pd = joinPresence(t, sc1b, sc1bID, hookKey, hookSecret, ch, "uc1", `{"node":"C"}`)
	settle(t, sc1b, ch, pd, "ua", "ub")
	sc2, sc2ID := connect(t, C, hookKey)
	pd = joinPresence(t, sc2, sc2ID, hookKey, hookSecret, ch, "uc2", "")
	settle(t, sc2, ch, pd, "ua", "ub", "uc1")
	for _, c := range []*rawClient{sa, sb, sc1, sc1b} {
		memberFrames(t, c, ch, 5*time.Second, "member_added uc2")
	}
	joinPresence(t, sc1, sc1ID, hookKey, hookSecret, conly, "uc1", "")
	subscribePublic(t, sc1, shared)
	subscribePublic(t, sc1, pubC)
	subscribePublic(t, sa, shared)

	// Occupancy, user_count, subscription_count and the users list are the
	// same on every node.
	want := ch + ` occupied=true users=4 subs=5 ids=ua,ub,uc1,uc2; ` + shared + ` occupied=true subs=2; ` + pubC + ` occupied=true subs=1`
	waitState(t, nodes, want, ch, shared, pubC)
	for i, s := range nodes {
		if l := channelList(t, s, "presence-"); !strings.Contains(l, `"`+ch+`":{"user_count":4}`) || !strings.Contains(l, `"`+conly+`":{"user_count":1}`) {
			t.Fatalf("node %d channel list %s, want %s with 4 users and %s with 1", i, l, ch, conly)
		}
	}

	// Webhooks so far: each once, though three nodes saw each change.
	for _, u := range []string{"ua", "ub", "uc1", "uc2"} {
		r.wait("member_added "+u, 5*time.Second, hookUser("member_added", ch, u))
	}
	r.wait("member_added uc1 on "+conly, 5*time.Second, hookUser("member_added", conly, "uc1"))
	for _, c := range []string{ch, conly, shared, pubC} {
		r.wait("occupied "+c, 5*time.Second, hookIs("channel_occupied", c))
	}

	// A reload across nodes: ur leaves B and comes back on A within 3 s.
	sr, srID := connect(t, B, hookKey)
	settle(t, sr, ch, joinPresence(t, sr, srID, hookKey, hookSecret, ch, "ur", ""), "ua", "ub", "uc1", "uc2")
	r.wait("member_added ur", 5*time.Second, hookUser("member_added", ch, "ur"))
	memberFrames(t, sa, ch, 5*time.Second, "member_added ur")
	memberFrames(t, sb, ch, 5*time.Second, "member_added ur")
	reload := time.Now()
	sr.conn.WriteClose(1000, nil)
	waitFor(t, "ur gone on A", func() bool { return !strings.Contains(strings.Join(users(t, A, ch), ","), "ur") })
	sr2, sr2ID := connect(t, A, hookKey)
	settle(t, sr2, ch, joinPresence(t, sr2, sr2ID, hookKey, hookSecret, ch, "ur", ""), "ua", "ub", "uc1", "uc2")
	if d := time.Since(reload); d >= hookDelay {
		t.Fatalf("the reload took %s, want it inside %s", d, hookDelay)
	}
	memberFrames(t, sa, ch, 5*time.Second, "member_removed ur", "member_added ur")
	memberFrames(t, sb, ch, 5*time.Second, "member_removed ur", "member_added ur")
	r.wait("occupied (sanity)", time.Second, hookIs("channel_occupied", ch))

	// kill -9 of C: its members leave everywhere, once per user per
	// subscriber, within 15 s.
	killed := time.Now()
	C.kill(t)
	gotA := memberFrames(t, sa, ch, 15*time.Second, "member_removed uc1", "member_removed uc2")
	gotB := memberFrames(t, sb, ch, 15*time.Second, "member_removed uc1", "member_removed uc2")
	for _, k := range []string{"member_removed uc1", "member_removed uc2"} {
		t.Logf("kill -9 → %s: node A %s, node B %s", k,
			gotA[k].Sub(killed).Round(10*time.Millisecond), gotB[k].Sub(killed).Round(10*time.Millisecond))
	}
	want = ch + ` occupied=true users=3 subs=3 ids=ua,ub,ur; ` + shared + ` occupied=true subs=1; ` + pubC + ` occupied=false subs=0`
	waitState(t, nodes[:2], want, ch, shared, pubC)
	for i, s := range nodes[:2] {
		if l := channelList(t, s, "presence-"); strings.Contains(l, conly) {
			t.Fatalf("node %d still lists %s after C died: %s", i, conly, l)
		}
	}

	// Webhooks after the kill: one member_removed per user, one
	// channel_vacated per channel that became empty, nothing else.
	for _, u := range []string{"uc1", "uc2"} {
		e := r.wait("member_removed "+u, 25*time.Second, hookUser("member_removed", ch, u))
		t.Logf("kill -9 → member_removed %s webhook: %s", u, e.At.Sub(killed).Round(10*time.Millisecond))
	}
	r.wait("member_removed uc1 on "+conly, 25*time.Second, hookUser("member_removed", conly, "uc1"))
	for _, c := range []string{conly, pubC} {
		e := r.wait("vacated "+c, 25*time.Second, hookIs("channel_vacated", c))
		t.Logf("kill -9 → channel_vacated %s webhook: %s", c, e.At.Sub(killed).Round(10*time.Millisecond))
	}
	sa.expectNothing(100 * time.Millisecond)
	r.observe(2 * time.Second) // duplicates from the other nodes would come by now
	sb.expectNothing(10 * time.Millisecond)
	sa.expectNothing(10 * time.Millisecond)
	for _, u := range []string{"ua", "ub", "uc1", "uc2", "ur"} {
		r.exactlyOnce("member_added "+u, hookUser("member_added", ch, u))
	}
	for _, u := range []string{"uc1", "uc2"} {
		r.exactlyOnce("member_removed "+u, hookUser("member_removed", ch, u))
	}
	r.exactlyOnce("member_added uc1 on "+conly, hookUser("member_added", conly, "uc1"))
	r.exactlyOnce("member_removed uc1 on "+conly, hookUser("member_removed", conly, "uc1"))
	for _, c := range []string{ch, conly, shared, pubC} {
		r.exactlyOnce("occupied "+c, hookIs("channel_occupied", c))
	}
	r.exactlyOnce("vacated "+conly, hookIs("channel_vacated", conly))
	r.exactlyOnce("vacated "+pubC, hookIs("channel_vacated", pubC))
	for _, pred := range []func(hookEvent) bool{
		hookIs("channel_vacated", ch), hookIs("channel_vacated", shared),
		hookUser("member_removed", ch, "ur"), hookUser("member_removed", ch, "ua"), hookUser("member_removed", ch, "ub"),
	} {
		if got := r.matching(pred); len(got) > 0 {
			t.Fatalf("unexpected webhook %v; all:\n%s", got, r.dump())
		}
	}
	if n := len(r.accepted()); n != 5+2+2+4+2 {
		t.Fatalf("%d webhook events in all, want 15:\n%s", n, r.dump())
	}
	for _, q := range r.requests() {
		if q.Path != "/cluster" || q.Status != http.StatusOK {
			t.Fatalf("request %s answered %d", q.Path, q.Status)
		}
	}
}

// C28/C29 under concurrency: 30 users join one presence channel at once on
// three nodes. Each subscriber must learn of every other user exactly once:
// either in its subscription_succeeded list or by one member_added, never
// both and never twice.
func TestClusterPresenceConcurrentJoins(t *testing.T) {
	r := newHookReceiver(t, map[string]string{hookKey: hookSecret, webmanKey: webmanSec})
	nodes := startCluster(t, 3, hookApps(r, "/cluster"))
	const ch, perNode = "presence-crowd", 10
	type member struct {
		c    *rawClient
		id   string
		user string
		node int
	}
	var ms []member
	for i := range 3 * perNode {
		c, id := connect(t, nodes[i%3], hookKey)
		ms = append(ms, member{c, id, "u" + strconv.Itoa(i), i % 3})
	}
	for _, m := range ms { // all subscribe requests go out before any answer is read
		cd := `{"user_id":"` + m.user + `"}`
		m.c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{
			"channel": ch, "auth": channelAuth(hookKey, hookSecret, m.id, ch, cd), "channel_data": cd}})
	}
	dups := 0
	for _, m := range ms {
		f := m.c.expect("pusher_internal:subscription_succeeded")
		var d struct{ Presence presenceData }
		if err := json.Unmarshal([]byte(f.dataString(t)), &d); err != nil {
			t.Fatal(err)
		}
		known := map[string]string{} // user -> how m learnt of it
		for _, u := range d.Presence.IDs {
			known[u] = "list"
		}
		if known[m.user] != "list" {
			t.Fatalf("%s's list %v lacks itself", m.user, d.Presence.IDs)
		}
		deadline := time.After(10 * time.Second)
		for len(known) < len(ms) {
			select {
			case b := <-m.c.frames:
				var f frame
				json.Unmarshal(b, &f)
				f.raw = b
				if f.Event != "pusher_internal:member_added" {
					t.Fatalf("%s on node %d got %s, want only member_added", m.user, m.node, b)
				}
				var md struct {
					UserID string `json:"user_id"`
				}
				json.Unmarshal([]byte(f.dataString(t)), &md)
				if how, ok := known[md.UserID]; ok {
					if dups++; dups <= 5 {
						t.Errorf("%s (socket %s on node %d) was told of %s twice: in its %s, then by %s", m.user, m.id, m.node, md.UserID, how, b)
					}
					continue
				}
				known[md.UserID] = "member_added"
			case <-deadline:
				t.Fatalf("%s on node %d knows %d of %d users after 10s", m.user, m.node, len(known), len(ms))
			}
		}
	}
	for _, m := range ms {
		select {
		case b := <-m.c.frames:
			t.Errorf("%s on node %d got an extra frame %s", m.user, m.node, b)
		default:
		}
	}
	if dups > 0 {
		t.Fatalf("%d duplicate member announcements (C29: member_added only for a user the subscriber does not know)", dups)
	}
	for i, s := range nodes {
		if got := users(t, s, ch); len(got) != len(ms) {
			t.Fatalf("node %d lists %d users, want %d", i, len(got), len(ms))
		}
	}
}

var channelAuth = protocol.ChannelAuth
