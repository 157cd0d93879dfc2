package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
)

// Webhooks end to end: a real pushd process posts to a receiver in the test
// (webhook_receiver_test.go) that checks every request's key and signature.
// ../shared/PROTOCOL.md A.14 (C77-C83) and Part C (webman names).

const (
	hookKey    = "hook-key"
	hookSecret = "hook-secret"
	webmanKey  = "webman-key"
	webmanSec  = "webman-secret"
	// the delay before channel_vacated and member_removed (C81)
	hookDelay = 3 * time.Second
)

// hookApps is an app section with one Pusher-style webhook app (id 1) and
// one webman-style app (id 2), both posting to r.
func hookApps(r *hookReceiver, hookPath string) string {
	return fmt.Sprintf(`
apps:
  - id: "1"
    key: %s
    secret: %s
    webhook_url: %s
  - id: "2"
    key: %s
    secret: %s
    webhook_names: webman
    channel_hook: %s
    user_hook: %s
`, hookKey, hookSecret, r.URL(hookPath), webmanKey, webmanSec, r.URL("/webman/channel"), r.URL("/webman/user"))
}

func newHookSetup(t *testing.T) (*server, *hookReceiver) {
	t.Helper()
	r := newHookReceiver(t, map[string]string{hookKey: hookSecret, webmanKey: webmanSec})
	s := startPushdWith(t, hookApps(r, "/pusher"))
	t.Cleanup(r.checkSigned)
	return s, r
}

// C77, C78, C79 (occupied/vacated), C81: channel_occupied on the first
// subscriber only; channel_vacated once, no sooner than 3 s after the last
// subscriber left.
func TestWebhookOccupiedVacated(t *testing.T) {
	t.Parallel() // mostly waits (timeouts, delays, a peer dying): runs beside the others
	s, r := newHookSetup(t)
	const ch = "room-1"
	a, _ := connect(t, s, hookKey)
	subscribePublic(t, a, ch)
	occ := r.wait("channel_occupied", 5*time.Second, hookIs("channel_occupied", ch))
	sameFields(t, occ, "name", "channel", "seq")
	if occ.Path != "/pusher" {
		t.Fatalf("occupied went to %s, want /pusher", occ.Path)
	}
	for _, q := range r.requests() {
		if q.Key != hookKey {
			t.Fatalf("X-Pusher-Key %q, want %q", q.Key, hookKey)
		}
	}
	b, _ := connect(t, s, hookKey)
	subscribePublic(t, b, ch)
	waitFor(t, "subscription_count 2", func() bool {
		return channelInfo(t, s, hookKey, hookSecret, "1", ch, "subscription_count")["subscription_count"] == float64(2)
	})

	// The second subscriber leaves by unsubscribing, the first by closing.
	unsubscribe(b, ch)
	a.conn.WriteClose(1000, nil)
	left := time.Now()
	waitFor(t, "channel vacant in the API", func() bool {
		return channelInfo(t, s, hookKey, hookSecret, "1", ch, "")["occupied"] == false
	})
	vac := r.wait("channel_vacated", hookDelay+5*time.Second, hookIs("channel_vacated", ch))
	sameFields(t, vac, "name", "channel", "seq")
	after := vac.At.Sub(left)
	t.Logf("channel_vacated %s after the last subscriber left", after.Round(time.Millisecond))
	if after < hookDelay {
		t.Fatalf("channel_vacated %s after the last subscriber left, want no sooner than %s", after, hookDelay)
	}
	r.observe(time.Second) // a duplicate would come within a batch window
	r.exactlyOnce("channel_occupied", hookIs("channel_occupied", ch))
	r.exactlyOnce("channel_vacated", hookIs("channel_vacated", ch))
}

// C79 (member_added, member_removed, client_event with user_id on presence
// channels), C81: members are reported per user, not per connection.
func TestWebhookPresenceMembers(t *testing.T) {
	t.Parallel() // mostly waits (timeouts, delays, a peer dying): runs beside the others
	s, r := newHookSetup(t)
	const ch = "presence-hooks"
	a1, a1id := connect(t, s, hookKey)
	joinPresence(t, a1, a1id, hookKey, hookSecret, ch, "alice", `{"n":1}`)
	added := r.wait("member_added alice", 5*time.Second, hookUser("member_added", ch, "alice"))
	sameFields(t, added, "name", "channel", "user_id", "seq")
	r.wait("channel_occupied", 5*time.Second, hookIs("channel_occupied", ch))

	a2, a2id := connect(t, s, hookKey) // alice's second tab
	joinPresence(t, a2, a2id, hookKey, hookSecret, ch, "alice", `{"n":1}`)
	b, bid := connect(t, s, hookKey)
	joinPresence(t, b, bid, hookKey, hookSecret, ch, "bob", "")
	r.wait("member_added bob", 5*time.Second, hookUser("member_added", ch, "bob"))

	// Client events: with user_id on a presence channel, without on a
	// private one.
	a2.send(`{"event":"client-typing","channel":"presence-hooks","data":{"on":true}}`)
	f := b.next()
	for f.Event == "pusher_internal:member_added" { // see TestClusterPresenceConcurrentJoins
		f = b.next()
	}
	if f.Event != "client-typing" || f.UserID != "alice" {
		t.Fatalf("got %s, want client-typing with user_id alice", f.raw)
	}
	ce := r.wait("client_event", 5*time.Second, hookIs("client_event", ch))
	sameFields(t, ce, "name", "channel", "event", "data", "socket_id", "user_id", "seq")
	if ce.Event != "client-typing" || ce.Data != `{"on":true}` || ce.SocketID != a2id || ce.UserID != "alice" {
		t.Fatalf("client_event %+v, want event client-typing, data {\"on\":true}, socket_id %s, user_id alice", ce, a2id)
	}
	const priv = "private-hooks"
	b.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{
		"channel": priv, "auth": protocol.ChannelAuth(hookKey, hookSecret, bid, priv, "")}})
	b.expect("pusher_internal:subscription_succeeded")
	b.send(`{"event":"client-ping","channel":"private-hooks","data":"x"}`)
	pe := r.wait("client_event on a private channel", 5*time.Second, hookIs("client_event", priv))
	sameFields(t, pe, "name", "channel", "event", "data", "socket_id", "seq")
	if pe.Event != "client-ping" || pe.Data != "x" || pe.SocketID != bid {
		t.Fatalf("private client_event %+v", pe)
	}

	// Alice's first tab leaving is not alice leaving; bob leaving is.
	a1.conn.WriteClose(1000, nil)
	unsubscribe(b, ch)
	bobLeft := time.Now()
	rm := r.wait("member_removed bob", hookDelay+5*time.Second, hookUser("member_removed", ch, "bob"))
	sameFields(t, rm, "name", "channel", "user_id", "seq")
	if d := rm.At.Sub(bobLeft); d < hookDelay {
		t.Fatalf("member_removed %s after bob left, want no sooner than %s", d, hookDelay)
	}
	if got := r.matching(hookUser("member_removed", ch, "alice")); len(got) != 0 {
		t.Fatalf("member_removed alice while her second tab is still there: %v", got)
	}
	a2.conn.WriteClose(1000, nil)
	r.wait("member_removed alice", hookDelay+5*time.Second, hookUser("member_removed", ch, "alice"))
	r.wait("channel_vacated", hookDelay+5*time.Second, hookIs("channel_vacated", ch))
	r.observe(time.Second)
	r.exactlyOnce("member_added alice", hookUser("member_added", ch, "alice"))
	r.exactlyOnce("member_added bob", hookUser("member_added", ch, "bob"))
	r.exactlyOnce("member_removed alice", hookUser("member_removed", ch, "alice"))
	r.exactlyOnce("member_removed bob", hookUser("member_removed", ch, "bob"))
	r.exactlyOnce("channel_occupied", hookIs("channel_occupied", ch))
	r.exactlyOnce("channel_vacated", hookIs("channel_vacated", ch))
	r.exactlyOnce("client_event", hookIs("client_event", ch))
}

// C79 cache_miss: a subscription to a cache channel with nothing cached.
func TestWebhookCacheMiss(t *testing.T) {
	s, r := newHookSetup(t)
	const ch = "cache-hooks"
	c, _ := connect(t, s, hookKey)
	subscribePublic(t, c, ch)
	c.expect("pusher:cache_miss")
	miss := r.wait("cache_miss", 5*time.Second, hookIs("cache_miss", ch))
	sameFields(t, miss, "name", "channel", "seq")

	// Once something is cached, a new subscriber gets it and no cache_miss.
	trigger(t, s, hookKey, hookSecret, "/apps/1/events", `{"name":"ev","channel":"cache-hooks","data":"1"}`)
	c.expect("ev")
	d, _ := connect(t, s, hookKey)
	subscribePublic(t, d, ch)
	d.expect("ev")
	r.observe(time.Second)
	r.exactlyOnce("cache_miss", hookIs("cache_miss", ch))
}

// C81: a page reload (unsubscribe and subscribe again, or disconnect and
// connect again) within 3 s is no vacated/occupied and no removed/added.
func TestWebhookReload(t *testing.T) {
	t.Parallel() // mostly waits (timeouts, delays, a peer dying): runs beside the others
	s, r := newHookSetup(t)
	const pub, pres = "reload-pub", "presence-reload"
	c, cid := connect(t, s, hookKey)
	subscribePublic(t, c, pub)
	joinPresence(t, c, cid, hookKey, hookSecret, pres, "carol", "")
	r.wait("occupied "+pub, 5*time.Second, hookIs("channel_occupied", pub))
	r.wait("occupied "+pres, 5*time.Second, hookIs("channel_occupied", pres))
	r.wait("member_added carol", 5*time.Second, hookUser("member_added", pres, "carol"))

	// Reload 1: unsubscribe and subscribe again on the same connection,
	// after the cluster view saw the channel empty.
	start := time.Now()
	unsubscribe(c, pub)
	waitFor(t, pub+" vacant", func() bool {
		return channelInfo(t, s, hookKey, hookSecret, "1", pub, "")["occupied"] == false
	})
	subscribePublic(t, c, pub)

	// Reload 2: the presence user's connection goes away and a new one
	// joins as the same user, after the cluster view saw carol gone.
	c.conn.WriteClose(1000, nil)
	waitFor(t, pres+" without members", func() bool {
		_, body := apiCall(t, s, hookKey, hookSecret, http.MethodGet, "/apps/1/channels/"+pres+"/users", nil, "")
		return strings.Contains(strings.ReplaceAll(body, " ", ""), `"users":[]`)
	})
	c2, c2id := connect(t, s, hookKey)
	joinPresence(t, c2, c2id, hookKey, hookSecret, pres, "carol", "")
	subscribePublic(t, c2, pub)
	if d := time.Since(start); d >= hookDelay {
		t.Fatalf("the reloads took %s, want them inside the %s delay", d, hookDelay)
	}
	// Nothing is reported for either channel: wait past the delay and a
	// batch window.
	r.none("a webhook for a reload", hookDelay+1500*time.Millisecond, func(e hookEvent) bool {
		return (e.Channel == pub || e.Channel == pres) && e.Name != "channel_occupied" && e.Name != "member_added"
	})
	r.exactlyOnce("occupied "+pub, hookIs("channel_occupied", pub))
	r.exactlyOnce("occupied "+pres, hookIs("channel_occupied", pres))
	r.exactlyOnce("member_added carol", hookUser("member_added", pres, "carol"))

	// A real leave is still reported, once.
	c2.conn.WriteClose(1000, nil)
	r.wait("member_removed carol", hookDelay+5*time.Second, hookUser("member_removed", pres, "carol"))
	r.wait("vacated "+pub, hookDelay+5*time.Second, hookIs("channel_vacated", pub))
	r.wait("vacated "+pres, hookDelay+5*time.Second, hookIs("channel_vacated", pres))
}

// C80: events that happen together are batched, at most 20 per request.
func TestWebhookBatching(t *testing.T) {
	s, r := newHookSetup(t)
	const n = 50
	c, _ := connect(t, s, hookKey)
	var b strings.Builder
	for i := range n {
		b.Reset()
		fmt.Fprintf(&b, `{"event":"pusher:subscribe","data":{"channel":"batch-%d"}}`, i)
		c.send(b.String())
	}
	for range n {
		c.expect("pusher_internal:subscription_succeeded")
	}
	r.waitCount("channel_occupied", n, 10*time.Second, func(e hookEvent) bool {
		return e.Name == "channel_occupied" && strings.HasPrefix(e.Channel, "batch-")
	})
	reqs := r.requests()
	maxPer := 0
	for _, q := range reqs {
		if len(q.Events) > 20 {
			t.Fatalf("a request with %d events, want at most 20: %s", len(q.Events), q.RawBody)
		}
		maxPer = max(maxPer, len(q.Events))
	}
	t.Logf("%d channel_occupied events in %d requests (largest %d)", n, len(reqs), maxPer)
	if len(reqs) >= n {
		t.Fatalf("%d events in %d requests, want them batched", n, len(reqs))
	}
	for i := range n {
		r.exactlyOnce(fmt.Sprintf("occupied batch-%d", i), hookIs("channel_occupied", fmt.Sprintf("batch-%d", i)))
	}
}

// failFirst makes r answer 500 to a request while any event in it has been
// offered n times or fewer, so every event is refused at least n times. It
// returns how often each event was offered so far.
func failFirst(r *hookReceiver, n int) func() map[string]int {
	var mu sync.Mutex
	tries := map[string]int{}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = func(_ string, evs []hookEvent) bool {
		mu.Lock()
		defer mu.Unlock()
		fail := false
		for _, e := range evs {
			k := e.Name + "|" + e.Channel + "|" + e.UserID + "|" + e.Event + "|" + e.Data
			tries[k]++
			fail = fail || tries[k] <= n
		}
		return fail
	}
	return func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]int{}
		for k, v := range tries {
			out[k] = v
		}
		return out
	}
}

// C82: a receiver that refuses the first two attempts of every event still
// gets each event exactly once.
func TestWebhookRetry(t *testing.T) {
	t.Parallel() // mostly waits (timeouts, delays, a peer dying): runs beside the others
	s, r := newHookSetup(t)
	tries := failFirst(r, 2)

	c, cid := connect(t, s, hookKey)
	chans := []string{"retry-1", "retry-2", "retry-3"}
	for _, ch := range chans {
		subscribePublic(t, c, ch)
	}
	joinPresence(t, c, cid, hookKey, hookSecret, "presence-retry", "dave", "")
	c.send(`{"event":"client-hi","channel":"presence-retry","data":"1"}`)

	want := map[string]func(hookEvent) bool{
		"occupied presence-retry": hookIs("channel_occupied", "presence-retry"),
		"member_added dave":       hookUser("member_added", "presence-retry", "dave"),
		"client_event":            hookIs("client_event", "presence-retry"),
	}
	for _, ch := range chans {
		want["occupied "+ch] = hookIs("channel_occupied", ch)
	}
	for what, pred := range want {
		r.wait(what, 40*time.Second, pred)
	}
	r.observe(1500 * time.Millisecond)
	for what, pred := range want {
		r.exactlyOnce(what, pred)
	}
	refused := 0
	for _, q := range r.requests() {
		if q.Status == http.StatusInternalServerError {
			refused++
		}
	}
	for k, n := range tries() {
		if n < 3 {
			t.Errorf("event %s offered %d times, want at least 2 refusals, then a success", k, n)
		}
	}
	t.Logf("%d requests refused, %d in all", refused, len(r.requests()))
}

// C81 + C82: a channel that is joined and left while the receiver refuses
// requests gets its channel_occupied and its channel_vacated, once each.
func TestWebhookRetryJoinLeave(t *testing.T) {
	t.Parallel() // mostly waits (timeouts, delays, a peer dying): runs beside the others
	s, r := newHookSetup(t)
	failFirst(r, 2)

	const ch = "retry-brief"
	c, _ := connect(t, s, hookKey)
	subscribePublic(t, c, ch)
	waitFor(t, ch+" occupied in the API", func() bool {
		return channelInfo(t, s, hookKey, hookSecret, "1", ch, "")["occupied"] == true
	})
	unsubscribe(c, ch)
	r.wait("channel_vacated", 40*time.Second, hookIs("channel_vacated", ch))
	r.wait("channel_occupied", 10*time.Second, hookIs("channel_occupied", ch))
	r.observe(1500 * time.Millisecond)
	r.exactlyOnce("channel_occupied", hookIs("channel_occupied", ch))
	r.exactlyOnce("channel_vacated", hookIs("channel_vacated", ch))
}

// Part C: webhook_names webman sends channel_added/channel_removed to the
// channel hook and user_added/user_removed to the user hook, and nothing
// under Pusher's names.
func TestWebhookWebman(t *testing.T) {
	t.Parallel() // mostly waits (timeouts, delays, a peer dying): runs beside the others
	s, r := newHookSetup(t)
	const ch = "presence-webman"
	c, cid := connect(t, s, webmanKey)
	joinPresence(t, c, cid, webmanKey, webmanSec, ch, "42", `{"name":"x"}`)
	ca := r.wait("channel_added", 5*time.Second, hookIs("channel_added", ch))
	ua := r.wait("user_added", 5*time.Second, hookUser("user_added", ch, "42"))
	if ca.Path != "/webman/channel" || ua.Path != "/webman/user" {
		t.Fatalf("channel_added went to %s and user_added to %s, want /webman/channel and /webman/user", ca.Path, ua.Path)
	}
	sameFields(t, ca, "channel", "name", "seq")
	sameFields(t, ua, "channel", "user_id", "name", "seq")
	c.send(`{"event":"client-x","channel":"presence-webman","data":"1"}`) // webman has no client_event hook

	left := time.Now()
	c.conn.WriteClose(1000, nil)
	cr := r.wait("channel_removed", hookDelay+5*time.Second, hookIs("channel_removed", ch))
	ur := r.wait("user_removed", hookDelay+5*time.Second, hookUser("user_removed", ch, "42"))
	if cr.Path != "/webman/channel" || ur.Path != "/webman/user" {
		t.Fatalf("channel_removed went to %s and user_removed to %s", cr.Path, ur.Path)
	}
	if cr.At.Sub(left) < hookDelay || ur.At.Sub(left) < hookDelay {
		t.Fatalf("removed events after %s / %s, want no sooner than %s", cr.At.Sub(left), ur.At.Sub(left), hookDelay)
	}
	sameFields(t, cr, "channel", "name", "seq")
	sameFields(t, ur, "channel", "user_id", "name", "seq")
	r.observe(time.Second)
	for _, q := range r.requests() {
		if q.Key != webmanKey {
			t.Fatalf("request with key %q, want %q", q.Key, webmanKey)
		}
	}
	for _, e := range r.accepted() {
		switch e.Name {
		case "channel_added", "channel_removed":
			if e.Path != "/webman/channel" {
				t.Fatalf("%v at the wrong URL", e)
			}
		case "user_added", "user_removed":
			if e.Path != "/webman/user" {
				t.Fatalf("%v at the wrong URL", e)
			}
		default:
			t.Fatalf("webman app got %v, want only webman names", e)
		}
	}
	for _, name := range []string{"channel_added", "channel_removed"} {
		r.exactlyOnce(name, hookIs(name, ch))
	}
	for _, name := range []string{"user_added", "user_removed"} {
		r.exactlyOnce(name, hookUser(name, ch, "42"))
	}
}

// C83: a subscription_count webhook on (un)subscribe.
func TestWebhookSubscriptionCount(t *testing.T) {
	// Opt-in: only an app whose webhook_events names it gets the event.
	r := newHookReceiver(t, map[string]string{hookKey: hookSecret})
	s := startPushdWith(t, fmt.Sprintf(`
apps:
  - id: "1"
    key: %s
    secret: %s
    webhook_url: %s
    webhook_events: [subscription_count]
`, hookKey, hookSecret, r.URL("/pusher")))
	t.Cleanup(r.checkSigned)
	const ch = "count-hooks"
	a, _ := connect(t, s, hookKey)
	subscribePublic(t, a, ch)
	b, _ := connect(t, s, hookKey)
	subscribePublic(t, b, ch)
	r.wait("subscription_count 2", 5*time.Second, func(e hookEvent) bool {
		return e.Name == "subscription_count" && e.Channel == ch && e.SubscriptionCount != nil && *e.SubscriptionCount == 2
	})
}
