package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
)

// Issue 19, the API half: the online-status API, user_online/user_offline
// webhooks, the webhook state snapshot and the watchlist replacement, over
// two real gateways on one NATS with a real webhook receiver.

// backendDelay is the webhook_delay of backendApps.
const backendDelay = time.Second

// backendApps is app 1 (hookKey) with two endpoints: webhook_url (/all,
// every event but the opt-in ones) and "users" (/users, user_online and
// user_offline only).
func backendApps(r *hookReceiver) string {
	return fmt.Sprintf(`
apps:
  - id: "1"
    key: %s
    secret: %s
    webhook_url: %s
    webhook_delay: %s
    webhooks:
      - name: users
        url: %s
        events: [user_online, user_offline]
`, hookKey, hookSecret, r.URL("/all"), backendDelay, r.URL("/users"))
}

// signinAs signs c in to the hook app as user_data ud.
func signinAs(t *testing.T, c *rawClient, socketID, ud string) {
	t.Helper()
	c.sendJSON(map[string]any{"event": "pusher:signin", "data": map[string]string{
		"auth": protocol.UserAuth(hookKey, hookSecret, socketID, ud), "user_data": ud}})
	c.expect("pusher:signin_success")
}

// onlineStatus is the answer of GET /apps/1/users/{user}.
type onlineStatus struct {
	ID      string `json:"id"`
	Online  bool   `json:"online"`
	Sockets int    `json:"sockets"`
	SinceMS int64  `json:"since_ms"`
}

func userStatus(t *testing.T, s *server, user string) onlineStatus {
	t.Helper()
	code, body := apiCall(t, s, hookKey, hookSecret, http.MethodGet, "/apps/1/users/"+user, nil, "")
	var st onlineStatus
	if code != http.StatusOK || json.Unmarshal([]byte(body), &st) != nil {
		t.Fatalf("GET user %s on %s: %d %s", user, s.APIAddr, code, body)
	}
	return st
}

// waitSockets waits (bounded by within) until s reports sockets
// connections of user, and returns the status.
func waitSockets(t *testing.T, s *server, user string, sockets int, within time.Duration) onlineStatus {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st := userStatus(t, s, user)
		if st.Sockets == sockets {
			if st.Online != (sockets > 0) || (st.SinceMS != 0) != (sockets > 0) {
				t.Fatalf("%s on %s: %+v: online and since disagree with %d sockets", user, s.APIAddr, st, sockets)
			}
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s on %s: %+v after %s, want %d sockets", user, s.APIAddr, st, within, sockets)
		}
		time.Sleep(50 * time.Millisecond) // polling interval of a bounded wait
	}
}

func hookAt(path, name, user string) func(hookEvent) bool {
	return func(e hookEvent) bool { return e.Path == path && e.Name == name && e.UserID == user }
}

// TestOnlineStatusAcrossGateways: a user signed in on both gateways is
// online with 2 sockets on each; the batch call answers 100 ids and refuses
// 101; closing both makes the user offline everywhere and user_offline
// follows after the delay; a gateway killed with -9 takes its user offline
// within 15 s; user_online and user_offline arrive once each, at the
// endpoint that names them only.
func TestOnlineStatusAcrossGateways(t *testing.T) {
	r := newHookReceiver(t, map[string]string{hookKey: hookSecret})
	t.Cleanup(r.checkSigned)
	nodes := startCluster(t, 2, backendApps(r))
	A, B := nodes[0], nodes[1]

	before := time.Now().Truncate(time.Millisecond)
	a1, a1id := connect(t, A, hookKey)
	signinAs(t, a1, a1id, `{"id":"alice"}`)
	b1, b1id := connect(t, B, hookKey)
	signinAs(t, b1, b1id, `{"id":"alice"}`)
	signedIn := time.Now()
	for _, s := range nodes {
		st := waitSockets(t, s, "alice", 2, 5*time.Second)
		if st.SinceMS < before.UnixMilli() || st.SinceMS > signedIn.UnixMilli() {
			t.Fatalf("alice on %s: since_ms %d, want the first signin, in [%d, %d]", s.APIAddr, st.SinceMS, before.UnixMilli(), signedIn.UnixMilli())
		}
	}
	r.wait("user_online alice", 5*time.Second, hookAt("/users", "user_online", "alice"))

	// 100 ids in one call; 101 is refused.
	ids := []string{"alice"}
	for i := range 99 {
		ids = append(ids, fmt.Sprintf("nobody-%d", i))
	}
	body, _ := json.Marshal(map[string][]string{"ids": ids})
	code, resp := apiCall(t, B, hookKey, hookSecret, http.MethodPost, "/apps/1/users/status", nil, string(body))
	var batch struct{ Users []onlineStatus }
	if code != http.StatusOK || json.Unmarshal([]byte(resp), &batch) != nil || len(batch.Users) != 100 {
		t.Fatalf("status of 100 ids: %d %.300s", code, resp)
	}
	for i, u := range batch.Users {
		want := onlineStatus{ID: ids[i]}
		if i == 0 {
			want = onlineStatus{ID: "alice", Online: true, Sockets: 2, SinceMS: u.SinceMS}
		}
		if u != want || (i == 0 && u.SinceMS == 0) {
			t.Fatalf("status %d: %+v, want %+v", i, u, want)
		}
	}
	body, _ = json.Marshal(map[string][]string{"ids": append(ids, "one-too-many")})
	if code, resp := apiCall(t, A, hookKey, hookSecret, http.MethodPost, "/apps/1/users/status", nil, string(body)); code != http.StatusBadRequest || !strings.Contains(resp, "at most 100") {
		t.Fatalf("status of 101 ids: %d %s, want 400 saying at most 100", code, resp)
	}

	// Both connections close: offline everywhere, then user_offline.
	a1.conn.WriteClose(1000, nil)
	for _, s := range nodes {
		waitSockets(t, s, "alice", 1, 5*time.Second)
	}
	closed := time.Now()
	b1.conn.WriteClose(1000, nil)
	for _, s := range nodes {
		waitSockets(t, s, "alice", 0, 5*time.Second)
	}
	e := r.wait("user_offline alice", 10*time.Second, hookAt("/users", "user_offline", "alice"))
	if d := e.At.Sub(closed); d < backendDelay {
		t.Fatalf("user_offline %s after the last close, want it held for webhook_delay %s", d, backendDelay)
	}
	sameFields(t, e, "name", "user_id", "seq")

	// kill -9 of the gateway holding bob's only connection.
	c, cid := connect(t, B, hookKey)
	signinAs(t, c, cid, `{"id":"bob"}`)
	waitSockets(t, A, "bob", 1, 5*time.Second)
	r.wait("user_online bob", 5*time.Second, hookAt("/users", "user_online", "bob"))
	killed := time.Now()
	B.kill(t)
	waitSockets(t, A, "bob", 0, 15*time.Second)
	t.Logf("kill -9 → bob offline on the other gateway after %s", time.Since(killed).Round(10*time.Millisecond))
	e = r.wait("user_offline bob", 25*time.Second, hookAt("/users", "user_offline", "bob"))
	t.Logf("kill -9 → user_offline bob webhook after %s", e.At.Sub(killed).Round(10*time.Millisecond))

	r.observe(2 * time.Second) // a duplicate from the other gateway would come by now
	for _, u := range []string{"alice", "bob"} {
		for _, name := range []string{"user_online", "user_offline"} {
			r.exactlyOnce(name+" "+u, hookAt("/users", name, u))
		}
	}
	if got := r.matching(func(e hookEvent) bool { return e.Path == "/all" }); len(got) > 0 {
		t.Fatalf("webhook_url (no filter) got %v: user_online/user_offline are opt-in, and nothing else happened", got)
	}
}

// snapshot is the answer of GET /apps/1/webhooks/state.
type snapshot struct {
	Endpoint string              `json:"endpoint"`
	Seq      uint64              `json:"seq"`
	Channels []string            `json:"channels"`
	Members  map[string][]string `json:"members"`
	Users    []string            `json:"users"`
	Fields   map[string]json.RawMessage
}

func stateSnapshot(t *testing.T, s *server, endpoint string) snapshot {
	t.Helper()
	code, body := apiCall(t, s, hookKey, hookSecret, http.MethodGet, "/apps/1/webhooks/state", url.Values{"endpoint": {endpoint}}, "")
	var snap snapshot
	if code != http.StatusOK || json.Unmarshal([]byte(body), &snap) != nil || json.Unmarshal([]byte(body), &snap.Fields) != nil {
		t.Fatalf("state of %s on %s: %d %s", endpoint, s.APIAddr, code, body)
	}
	return snap
}

// built is the state a receiver builds from the events of one path: each
// channel's, member's and user's latest event by seq, and the seqs seen.
type built struct {
	channels map[string]bool
	members  map[string]map[string]bool
	users    map[string]bool
	seqs     []uint64
}

// apply applies e if its seq is above the last applied for its key, as
// docs/protocol.md tells a receiver to.
func (b *built) apply(e hookEvent, last map[string]uint64) {
	key := e.Name + "/" + e.Channel + "/" + e.UserID
	switch e.Name {
	case "channel_occupied", "channel_vacated":
		key = "c/" + e.Channel
	case "member_added", "member_removed":
		key = "m/" + e.Channel + "/" + e.UserID
	case "user_online", "user_offline":
		key = "u/" + e.UserID
	}
	if e.Seq <= last[key] {
		return
	}
	last[key] = e.Seq
	switch e.Name {
	case "channel_occupied", "channel_vacated":
		b.channels[e.Channel] = e.Name == "channel_occupied"
	case "member_added", "member_removed":
		if b.members[e.Channel] == nil {
			b.members[e.Channel] = map[string]bool{}
		}
		b.members[e.Channel][e.UserID] = e.Name == "member_added"
	case "user_online", "user_offline":
		b.users[e.UserID] = e.Name == "user_online"
	}
}

func buildFrom(r *hookReceiver, path string) built {
	b := built{channels: map[string]bool{}, members: map[string]map[string]bool{}, users: map[string]bool{}}
	evs := r.matching(func(e hookEvent) bool { return e.Path == path })
	sort.Slice(evs, func(i, j int) bool { return evs[i].Seq < evs[j].Seq })
	last := map[string]uint64{}
	for _, e := range evs {
		b.seqs = append(b.seqs, e.Seq)
		b.apply(e, last)
	}
	return b
}

func setOf(m map[string]bool) []string {
	out := []string{}
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// matches fails t unless snap holds exactly the state b was built to.
func (b built) matches(t *testing.T, where string, snap snapshot) {
	t.Helper()
	if got, want := snap.Channels, setOf(b.channels); !slices.Equal(got, want) {
		t.Fatalf("%s: snapshot channels %v, the webhooks say %v", where, got, want)
	}
	want := map[string][]string{}
	for ch, m := range b.members {
		if ids := setOf(m); len(ids) > 0 {
			want[ch] = ids
		}
	}
	if fmt.Sprint(snap.Members) != fmt.Sprint(want) {
		t.Fatalf("%s: snapshot members %v, the webhooks say %v", where, snap.Members, want)
	}
}

// TestWebhookStateSnapshot: after a few changes on two gateways, each
// endpoint's snapshot (asked on either gateway) holds the state its
// webhooks built and the seq of the last of them; a change after it comes
// with a higher seq and, applied on top, gives the next snapshot.
func TestWebhookStateSnapshot(t *testing.T) {
	r := newHookReceiver(t, map[string]string{hookKey: hookSecret})
	t.Cleanup(r.checkSigned)
	nodes := startCluster(t, 2, backendApps(r))
	A, B := nodes[0], nodes[1]
	const ch = "presence-snap"

	ca, caID := connect(t, A, hookKey)
	subscribePublic(t, ca, "snap-a")
	joinPresence(t, ca, caID, hookKey, hookSecret, ch, "u1", "")
	cb, cbID := connect(t, B, hookKey)
	joinPresence(t, cb, cbID, hookKey, hookSecret, ch, "u2", "")
	subscribePublic(t, cb, "snap-b")
	signinAs(t, cb, cbID, `{"id":"x"}`)
	r.waitCount("the first changes", 5, 10*time.Second, func(e hookEvent) bool { return e.Path == "/all" })
	unsubscribe(cb, "snap-b")
	unsubscribe(cb, ch)
	r.wait("vacated snap-b", 10*time.Second, hookIs("channel_vacated", "snap-b"))
	r.wait("member_removed u2", 10*time.Second, hookUser("member_removed", ch, "u2"))
	r.wait("user_online x", 10*time.Second, hookAt("/users", "user_online", "x"))
	r.observe(500 * time.Millisecond)

	all := buildFrom(r, "/all")
	if want := []uint64{1, 2, 3, 4, 5, 6, 7}; !slices.Equal(all.seqs, want) {
		t.Fatalf("webhook_url seqs %v, want %v (3 occupied, 2 added, vacated, removed)", all.seqs, want)
	}
	for _, s := range nodes {
		snap := stateSnapshot(t, s, "webhook_url")
		if snap.Endpoint != "webhook_url" || snap.Seq != 7 {
			t.Fatalf("snapshot on %s: endpoint %q seq %d, want webhook_url at 7 (the last webhook's seq)", s.APIAddr, snap.Endpoint, snap.Seq)
		}
		all.matches(t, "webhook_url on "+s.APIAddr, snap)
		if !slices.Equal(snap.Channels, []string{ch, "snap-a"}) || !slices.Equal(snap.Members[ch], []string{"u1"}) {
			t.Fatalf("snapshot %+v, want channels %s and snap-a, members u1", snap, ch)
		}
		if _, ok := snap.Fields["users"]; ok {
			t.Fatalf("webhook_url takes no user events, its snapshot has users: %s", snap.Fields["users"])
		}
		users := stateSnapshot(t, s, "users")
		if users.Seq != 1 || !slices.Equal(users.Users, []string{"x"}) || users.Fields["channels"] != nil || users.Fields["members"] != nil {
			t.Fatalf("users snapshot on %s: %+v, want seq 1 and users [x] only", s.APIAddr, users)
		}
	}
	if code, body := apiCall(t, A, hookKey, hookSecret, http.MethodGet, "/apps/1/webhooks/state", nil, ""); code != http.StatusBadRequest || !strings.Contains(body, "webhook_url, users") {
		t.Fatalf("state without endpoint: %d %s, want 400 naming webhook_url, users", code, body)
	}
	if code, body := apiCall(t, A, hookKey, hookSecret, http.MethodGet, "/apps/1/webhooks/state", url.Values{"endpoint": {"nope"}}, ""); code != http.StatusNotFound {
		t.Fatalf("state of an unknown endpoint: %d %s, want 404", code, body)
	}

	// A backend restarts now: it takes the snapshot, then applies what
	// comes with a higher seq.
	snap := stateSnapshot(t, B, "webhook_url")
	rebuilt := built{channels: map[string]bool{}, members: map[string]map[string]bool{ch: {}}, users: map[string]bool{}}
	last := map[string]uint64{}
	for _, c := range snap.Channels {
		rebuilt.channels[c] = true
	}
	for _, u := range snap.Members[ch] {
		rebuilt.members[ch][u] = true
	}
	c3, c3ID := connect(t, B, hookKey)
	joinPresence(t, c3, c3ID, hookKey, hookSecret, ch, "u3", "")
	unsubscribe(ca, "snap-a")
	r.wait("member_added u3", 10*time.Second, hookUser("member_added", ch, "u3"))
	r.wait("vacated snap-a", 10*time.Second, hookIs("channel_vacated", "snap-a"))
	for _, e := range r.matching(func(e hookEvent) bool { return e.Path == "/all" }) {
		if e.Seq <= snap.Seq {
			continue
		}
		rebuilt.apply(e, last) // every key's last applied seq starts at snap.Seq: only later ones count
	}
	next := stateSnapshot(t, A, "webhook_url")
	if next.Seq != snap.Seq+2 {
		t.Fatalf("next snapshot at seq %d, want %d", next.Seq, snap.Seq+2)
	}
	rebuilt.matches(t, "snapshot + later webhooks", next)
	buildFrom(r, "/all").matches(t, "every webhook", next)
}

// TestWatchlistReplacement: PUT /apps/1/users/{user}/watchlist replaces the
// watchlist of that user's connections on both gateways: each gets online
// for the newly watched users online and offline for the dropped ones that
// were online; other connections get nothing; later changes follow the new
// list.
func TestWatchlistReplacement(t *testing.T) {
	r := newHookReceiver(t, map[string]string{hookKey: hookSecret})
	nodes := startCluster(t, 2, backendApps(r))
	A, B := nodes[0], nodes[1]

	u1, u1ID := connect(t, B, hookKey)
	signinAs(t, u1, u1ID, `{"id":"u1"}`)
	u3, u3ID := connect(t, A, hookKey)
	signinAs(t, u3, u3ID, `{"id":"u3"}`)
	for _, s := range nodes {
		waitSockets(t, s, "u1", 1, 5*time.Second)
		waitSockets(t, s, "u3", 1, 5*time.Second)
	}
	w1, w1ID := connect(t, A, hookKey)
	signinAs(t, w1, w1ID, `{"id":"w","watchlist":["u1","u2"]}`)
	w2, w2ID := connect(t, B, hookKey)
	signinAs(t, w2, w2ID, `{"id":"w","watchlist":["u1","u2"]}`)
	z, zID := connect(t, A, hookKey)
	signinAs(t, z, zID, `{"id":"z","watchlist":["u1"]}`)
	for _, c := range []*rawClient{w1, w2, z} {
		if got := watchEvent(t, c); got != "online:u1" {
			t.Fatalf("at signin: %s, want online:u1", got)
		}
	}

	put := func(s *server, user, body string) (int, string) {
		return apiCall(t, s, hookKey, hookSecret, http.MethodPut, "/apps/1/users/"+user+"/watchlist", nil, body)
	}
	if code, body := put(B, "w", `{"watchlist":["u2","u3"]}`); code != http.StatusOK || body != "{}\n" {
		t.Fatalf("PUT watchlist: %d %s", code, body)
	}
	for i, c := range []*rawClient{w1, w2} {
		if got := watchEvent(t, c); got != "online:u3" {
			t.Fatalf("w%d after the replacement: %s, want online:u3 (newly watched, online)", i+1, got)
		}
		if got := watchEvent(t, c); got != "offline:u1" {
			t.Fatalf("w%d after the replacement: %s, want offline:u1 (no longer watched)", i+1, got)
		}
	}
	z.expectNothing(300 * time.Millisecond)

	// Later changes follow the new list: u2 comes online; u1, no longer
	// watched, goes offline unseen; u3 goes offline.
	u2, u2ID := connect(t, A, hookKey)
	signinAs(t, u2, u2ID, `{"id":"u2"}`)
	for i, c := range []*rawClient{w1, w2} {
		if got := watchEvent(t, c); got != "online:u2" {
			t.Fatalf("w%d: %s, want online:u2", i+1, got)
		}
	}
	u1.conn.WriteClose(1000, nil)
	for _, s := range nodes {
		waitSockets(t, s, "u1", 0, 5*time.Second) // both gateways have seen it go
	}
	if got := watchEvent(t, z); got != "offline:u1" {
		t.Fatalf("z, still watching u1: %s, want offline:u1", got)
	}
	u3.conn.WriteClose(1000, nil)
	for i, c := range []*rawClient{w1, w2} {
		if got := watchEvent(t, c); got != "offline:u3" {
			t.Fatalf("w%d: %s, want offline:u3 (and nothing about u1 before it)", i+1, got)
		}
	}

	// [] watches nobody; a user with no connection is no error; 101 ids
	// are refused.
	if code, _ := put(A, "w", `{"watchlist":[]}`); code != http.StatusOK {
		t.Fatalf("PUT []: %d", code)
	}
	for i, c := range []*rawClient{w1, w2} {
		if got := watchEvent(t, c); got != "offline:u2" {
			t.Fatalf("w%d after []: %s, want offline:u2", i+1, got)
		}
	}
	if code, _ := put(A, "nobody", `{"watchlist":["u2"]}`); code != http.StatusOK {
		t.Fatalf("PUT for a user with no connection: %d, want 200", code)
	}
	long := make([]string, 101)
	for i := range long {
		long[i] = fmt.Sprintf("%q", fmt.Sprint("x", i))
	}
	if code, body := put(A, "w", `{"watchlist":[`+strings.Join(long, ",")+`]}`); code != http.StatusBadRequest || !strings.Contains(body, "at most 100") {
		t.Fatalf("PUT 101 ids: %d %s, want 400", code, body)
	}
	u2.conn.WriteClose(1000, nil)
	waitSockets(t, A, "u2", 0, 5*time.Second)
	for _, c := range []*rawClient{w1, w2, z} {
		c.expectNothing(300 * time.Millisecond)
	}
}
