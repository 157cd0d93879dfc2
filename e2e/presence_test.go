package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
)

// joinPresence subscribes c to a presence channel as user with info, signed
// with the app's secret, and returns the subscription_succeeded presence data.
func joinPresence(t *testing.T, c *rawClient, socketID, key, secret, ch, user, info string) presenceData {
	t.Helper()
	cd := `{"user_id":` + strconv.Quote(user)
	if info != "" {
		cd += `,"user_info":` + info
	}
	cd += "}"
	c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{
		"channel": ch, "auth": protocol.ChannelAuth(key, secret, socketID, ch, cd), "channel_data": cd}})
	f := c.expect("pusher_internal:subscription_succeeded")
	var d struct{ Presence presenceData }
	if err := json.Unmarshal([]byte(f.dataString(t)), &d); err != nil {
		t.Fatalf("presence data %s: %v", f.Data, err)
	}
	return d.Presence
}

type presenceData struct {
	IDs   []string                   `json:"ids"`
	Hash  map[string]json.RawMessage `json:"hash"`
	Count int                        `json:"count"`
}

// memberEvent checks the next frame is a member event for user on ch.
func memberEvent(t *testing.T, c *rawClient, event, ch, user string) {
	t.Helper()
	f := c.expect(event)
	var d struct {
		UserID string `json:"user_id"`
	}
	json.Unmarshal([]byte(f.dataString(t)), &d)
	if f.Channel != ch || d.UserID != user {
		t.Fatalf("got %s, want %s of %s on %s", f.raw, event, user, ch)
	}
}

func connect(t *testing.T, s *server, key string) (*rawClient, string) {
	t.Helper()
	c := dialRaw(t, s.WSURL(key)+"?protocol=7")
	return c, c.established()
}

func TestPresenceOneNode(t *testing.T) {
	s := startPushd(t, "")
	const ch = "presence-room"
	a, aid := connect(t, s, "app-key")
	pd := joinPresence(t, a, aid, "app-key", "app-secret", ch, "alice", `{"name":"Alice"}`)
	if pd.Count != 1 || len(pd.IDs) != 1 || pd.IDs[0] != "alice" || string(pd.Hash["alice"]) != `{"name":"Alice"}` {
		t.Fatalf("first member's list %+v, want only alice with her info", pd)
	}
	b, bid := connect(t, s, "app-key")
	pd = joinPresence(t, b, bid, "app-key", "app-secret", ch, "bob", "")
	if pd.Count != 2 || len(pd.Hash) != 2 {
		t.Fatalf("second member's list %+v, want alice and bob", pd)
	}
	memberEvent(t, a, "pusher_internal:member_added", ch, "bob")
	b.expectNothing(300 * time.Millisecond) // never told about itself

	// A second tab of alice is not a new member.
	a2, a2id := connect(t, s, "app-key")
	if pd := joinPresence(t, a2, a2id, "app-key", "app-secret", ch, "alice", `{"name":"Alice"}`); pd.Count != 2 {
		t.Fatalf("second tab sees %+v, want 2 unique users", pd)
	}
	b.expectNothing(300 * time.Millisecond)

	// Client events on presence channels carry the sender's user_id.
	a.send(`{"event":"client-hi","channel":"presence-room","data":{"x":1}}`)
	for _, c := range []*rawClient{b, a2} {
		f := c.expect("client-hi")
		if f.UserID != "alice" || f.dataString(t) != `{"x":1}` {
			t.Fatalf("client event %s, want user_id alice and data {\"x\":1}", f.raw)
		}
	}

	// The HTTP API sees the unique users.
	status, body := apiCall(t, s, "app-key", "app-secret", http.MethodGet, "/apps/1/channels/"+ch+"/users", nil, "")
	if status != 200 || !strings.Contains(body, `{"id":"alice"}`) || !strings.Contains(body, `{"id":"bob"}`) || strings.Count(body, `"id"`) != 2 {
		t.Fatalf("users: %d %s, want alice and bob once each", status, body)
	}
	waitFor(t, "user_count 2 and subscription_count 3", func() bool {
		_, body := apiCall(t, s, "app-key", "app-secret", http.MethodGet, "/apps/1/channels/"+ch, url.Values{"info": {"user_count,subscription_count"}}, "")
		return strings.Contains(body, `"user_count":2`) && strings.Contains(body, `"subscription_count":3`) && strings.Contains(body, `"occupied":true`)
	})
	_, body = apiCall(t, s, "app-key", "app-secret", http.MethodGet, "/apps/1/channels", url.Values{"filter_by_prefix": {"presence-"}, "info": {"user_count"}}, "")
	if !strings.Contains(body, `"presence-room":{"user_count":2}`) {
		t.Fatalf("channel list %s, want presence-room with user_count 2", body)
	}

	// Alice's first tab leaving is not her leaving; the last one is.
	a.conn.WriteClose(1000, nil)
	b.expectNothing(300 * time.Millisecond)
	a2.send(`{"event":"pusher:unsubscribe","data":{"channel":"presence-room"}}`)
	memberEvent(t, b, "pusher_internal:member_removed", ch, "alice")
}

func TestPresenceLimits(t *testing.T) {
	s := startPushd(t, "")
	const ch = "presence-small"
	cases := []struct{ user, info, errType string }{
		{"toolong-user-id", "", "LimitReached"},
		{"u", `{"big":"` + strings.Repeat("x", 80) + `"}`, "LimitReached"},
	}
	for _, tc := range cases {
		c, id := connect(t, s, "members-key")
		cd := `{"user_id":"` + tc.user + `"` + map[bool]string{true: `,"user_info":` + tc.info, false: ""}[tc.info != ""] + "}"
		c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{
			"channel": ch, "auth": protocol.ChannelAuth("members-key", "members-secret", id, ch, cd), "channel_data": cd}})
		f := c.expect("pusher:subscription_error")
		if !strings.Contains(string(f.Data), tc.errType) {
			t.Fatalf("user %q: %s, want %s", tc.user, f.raw, tc.errType)
		}
	}
	// Bad channel_data signature: the channel_data is part of what is signed.
	c, id := connect(t, s, "members-key")
	c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{
		"channel": ch, "auth": protocol.ChannelAuth("members-key", "members-secret", id, ch, `{"user_id":"a"}`), "channel_data": `{"user_id":"b"}`}})
	if f := c.expect("pusher:subscription_error"); !strings.Contains(string(f.Data), "AuthError") {
		t.Fatalf("forged channel_data: %s, want AuthError", f.raw)
	}
	// At most 2 members; more tabs of a member are fine.
	for i, user := range []string{"m1", "m2", "m1"} {
		c, id := connect(t, s, "members-key")
		joinPresence(t, c, id, "members-key", "members-secret", ch, user, "")
		_ = i
	}
	waitFor(t, "2 members", func() bool {
		_, body := apiCall(t, s, "members-key", "members-secret", http.MethodGet, "/apps/6/channels/"+ch, url.Values{"info": {"user_count"}}, "")
		return strings.Contains(body, `"user_count":2`)
	})
	c, id = connect(t, s, "members-key")
	cd := `{"user_id":"m3"}`
	c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{
		"channel": ch, "auth": protocol.ChannelAuth("members-key", "members-secret", id, ch, cd), "channel_data": cd}})
	if f := c.expect("pusher:subscription_error"); !strings.Contains(string(f.Data), "LimitReached") {
		t.Fatalf("third member: %s, want LimitReached", f.raw)
	}
}

// TestPresenceAcrossNodes runs two gateways on one NATS (the first one's
// embedded server) and kills one of them.
func TestPresenceAcrossNodes(t *testing.T) {
	t.Parallel() // mostly waits (timeouts, delays, a peer dying): runs beside the others
	natsAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	a := startPushd(t, "", "--nats-listen", natsAddr)
	b := startNode(t, a)
	const ch = "presence-x"
	ca, aid := connect(t, a, "app-key")
	joinPresence(t, ca, aid, "app-key", "app-secret", ch, "on-a", "")
	cb, bid := connect(t, b, "app-key")
	pd := joinPresence(t, cb, bid, "app-key", "app-secret", ch, "on-b", "")
	// Member keys are written in the background: on-a is in the list b's
	// member gets, or reaches it as member_added a moment later; either way
	// it is never missed.
	switch {
	case pd.Count == 2:
	case pd.Count == 1 && pd.IDs[0] == "on-b":
		memberEvent(t, cb, "pusher_internal:member_added", ch, "on-a")
	default:
		t.Fatalf("node b's new member sees %+v, want on-b, and on-a now or as member_added", pd)
	}
	memberEvent(t, ca, "pusher_internal:member_added", ch, "on-b")

	// Events and client events cross nodes.
	trigger(t, b, "app-key", "app-secret", "/apps/1/events", `{"name":"ev","channel":"presence-x","data":"1"}`)
	ca.expect("ev")
	cb.expect("ev")
	ca.send(`{"event":"client-x","channel":"presence-x","data":"hey"}`)
	if f := cb.expect("client-x"); f.UserID != "on-a" {
		t.Fatalf("client event across nodes %s, want user_id on-a", f.raw)
	}
	waitFor(t, "cluster-wide subscription_count 2 on node a", func() bool {
		_, body := apiCall(t, a, "app-key", "app-secret", http.MethodGet, "/apps/1/channels/"+ch, url.Values{"info": {"subscription_count,user_count"}}, "")
		return strings.Contains(body, `"subscription_count":2`) && strings.Contains(body, `"user_count":2`)
	})

	// kill -9 node b: its member disappears on node a within 15 s, once.
	start := time.Now()
	b.kill(t)
	f := ca.nextWithin(15 * time.Second)
	if f.Event != "pusher_internal:member_removed" || !strings.Contains(f.dataString(t), `"on-b"`) {
		t.Fatalf("after kill -9: %s, want member_removed of on-b", f.raw)
	}
	t.Logf("member_removed %s after kill -9", time.Since(start).Round(10*time.Millisecond))
	ca.expectNothing(time.Second)
}

// waitFor polls cond every 50 ms for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
