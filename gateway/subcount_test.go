package gateway

import (
	"testing"
	"time"

	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/protocol"
)

// countApps: "on" has subscription counting (webhook_events names
// subscription_count, no webhook URL), "off" does not.
var countApps = []config.App{
	{ID: "1", Key: "on", Secret: "on-secret", WebhookEvents: []string{"subscription_count"}},
	{ID: "2", Key: "off", Secret: "off-secret"},
}

// counts returns the subscription counts a peer received on ch, in order;
// it fails on a count frame before the channel's subscription_succeeded.
func (p *peer) counts(ch string) []int {
	p.t.Helper()
	var out []int
	succeeded := false
	for _, f := range p.snapshot() {
		if f.Channel != ch {
			continue
		}
		switch f.Event {
		case "pusher_internal:subscription_succeeded":
			succeeded = true
		case countEvent:
			if !succeeded {
				p.t.Fatalf("count before subscription_succeeded on %s: %v", ch, p.raws())
			}
			var d struct {
				N *int `json:"subscription_count"`
			}
			if err := protocol.DecodeData(f.Data, &d); err != nil || d.N == nil {
				p.t.Fatalf("count frame %s: %v", f.raw, err)
			}
			out = append(out, *d.N)
		}
	}
	return out
}

// waitCount waits until the last count a peer received on ch is want.
func (p *peer) waitCount(ch string, want int, within time.Duration) []int {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := p.counts(ch)
		if len(got) > 0 && got[len(got)-1] == want {
			return got
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("peer %s: counts on %s %v, want last %d within %s", p.socketID, ch, got, want, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A subscriber learns the count after subscribing and on every change, as
// the exact frame pusher-js expects (data a JSON string), on public and
// private channels; the count is the tracker's, the API's number.
func TestSubscriptionCountEvent(t *testing.T) {
	n := startTestNode(t, startTestNATS(t), countApps)
	a := dialPeer(t, n, "on")
	a.subscribe("room", "")
	a.waitCount("room", 1, 3*time.Second)
	want := `{"event":"pusher_internal:subscription_count","channel":"room","data":"{\"subscription_count\":1}"}`
	if f := a.waitFrame("count frame", func(f peerFrame) bool { return f.Event == countEvent }); f.raw != want {
		t.Fatalf("frame %s, want %s", f.raw, want)
	}

	b := dialPeer(t, n, "on")
	b.subscribe("room", "")
	b.waitCount("room", 2, 3*time.Second)
	a.waitCount("room", 2, 3*time.Second)
	if got := n.g.presence.SubscriptionCount("on", "room"); got != 2 {
		t.Fatalf("tracker count %d, want 2", got)
	}

	b.send(`{"event":"pusher:unsubscribe","data":{"channel":"room"}}`)
	a.waitCount("room", 1, 3*time.Second)

	a.subscribe("private-room", "on-secret")
	b.subscribe("private-room", "on-secret")
	a.waitCount("private-room", 2, 3*time.Second)
	b.waitCount("private-room", 2, 3*time.Second)
}

// No count frame on an app without subscription counting, nor on a
// presence channel of an app with it.
func TestSubscriptionCountOff(t *testing.T) {
	n := startTestNode(t, startTestNATS(t), countApps)
	var quiet []*peer
	for range 2 {
		p := dialPeer(t, n, "off")
		p.subscribe("room", "")
		p.subscribe("private-room", "off-secret")
		quiet = append(quiet, p)
	}
	on := []*peer{dialPeer(t, n, "on"), dialPeer(t, n, "on")}
	for _, p := range on {
		p.subscribe("presence-room", "on-secret")
		p.subscribe("room", "")
	}
	// The counts of "room" on the counting app arrive after all the
	// subscriptions above were made: by then any other count was sent.
	for _, p := range on {
		p.waitCount("room", 2, 3*time.Second)
	}
	time.Sleep(countSettle + countEvery)
	for _, p := range quiet {
		for _, f := range p.snapshot() {
			if f.Event == countEvent {
				t.Errorf("app without subscription counting got %s", f.raw)
			}
		}
	}
	for _, p := range on {
		if got := p.counts("presence-room"); len(got) > 0 {
			t.Errorf("presence channel got counts %v", got)
		}
	}
}

// Two nodes: each subscriber gets the cluster-wide count.
func TestSubscriptionCountAcrossNodes(t *testing.T) {
	url := startTestNATS(t)
	n1, n2 := startTestNode(t, url, countApps), startTestNode(t, url, countApps)
	a, b := dialPeer(t, n1, "on"), dialPeer(t, n2, "on")
	a.subscribe("room", "")
	a.waitCount("room", 1, 3*time.Second)
	b.subscribe("room", "")
	b.waitCount("room", 2, 3*time.Second)
	a.waitCount("room", 2, 3*time.Second)
	b.conn.WriteClose(1000, nil)
	a.waitCount("room", 1, 3*time.Second)
}

// A burst of joins is coalesced: each subscriber gets a few frames, not one
// per join, the counts never go back, and everyone ends with the total.
// Above 100 subscribers a channel's frames are 5 s apart.
func TestSubscriptionCountBurst(t *testing.T) {
	const clients = 120
	n := startTestNode(t, startTestNATS(t), countApps)
	peers := make([]*peer, clients)
	start := time.Now()
	for i := range peers {
		peers[i] = dialPeer(t, n, "on")
		peers[i].subscribe("crowd", "")
	}
	joined := time.Since(start)
	total := 0
	for _, p := range peers {
		got := p.waitCount("crowd", clients, countSettle+countEveryLarge+5*time.Second)
		for i := 1; i < len(got); i++ {
			if got[i] < got[i-1] {
				t.Fatalf("peer %s: counts went back: %v", p.socketID, got)
			}
		}
		total += len(got)
	}
	first := peers[0].counts("crowd")
	t.Logf("%d joins in %s: first subscriber got %v, %d count frames in all", clients, joined.Round(time.Millisecond), first, total)
	// At most one frame a second while the joins last, one for a newcomer
	// and one at the end; unthrottled, the first subscriber would get one
	// per tracker flush (about 50 here).
	limit := 3 + int(joined/time.Second)
	if len(first) > limit {
		t.Fatalf("first subscriber got %d frames, want at most %d: %v", len(first), limit, first)
	}
	if total > clients*limit {
		t.Fatalf("%d count frames in all, want at most %d", total, clients*limit)
	}
	if got := n.g.presence.SubscriptionCount("on", "crowd"); got != clients {
		t.Fatalf("tracker count %d, want %d", got, clients)
	}
}
