package gateway

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/metrics"
)

// testClient is a client whose frames go nowhere (its outbox is closed).
func testClient(id string) *client {
	a := &app{App: config.App{Key: "k"}, Runtime: &apps.Runtime{Metrics: metrics.New().ForApp("k")}}
	c := &client{socketID: id, gw: &Gateway{log: slog.New(slog.DiscardHandler)}}
	c.appPtr.Store(a)
	c.out.closing = true
	return c
}

func stored(seq uint64) delivery {
	return delivery{Delivery: bus.Delivery{App: "k", Channel: "c", Frame: []byte(`{"event":"e"}`), Seq: seq}}
}

// TestResumingHoldIsBounded (issue 13 #8): while a resuming subscription
// waits for its replay it holds at most maxHeld stored events; past that it
// keeps none but remembers the last one, which the replay reads from the
// stream before the hold may end. Member events are kept.
func TestResumingHoldIsBounded(t *testing.T) {
	s := &subscription{c: testClient("1.1")}
	s.held.Store(true)
	s.bound()
	for i := 1; i <= maxHeld; i++ {
		s.offer(stored(uint64(i)))
	}
	if len(s.pending) != maxHeld || s.overflowed() != 0 {
		t.Fatalf("at the bound: %d held, overflow %d; want %d held, none over", len(s.pending), s.overflowed(), maxHeld)
	}
	s.offer(delivery{Delivery: bus.Delivery{App: "k", Channel: "c", Frame: []byte(`{"event":"pusher_internal:member_added"}`)}, rev: 7})
	s.offer(stored(maxHeld + 1))
	s.offer(stored(maxHeld + 5))
	if len(s.pending) != 1 || s.pending[0].rev != 7 || s.overflowed() != maxHeld+5 {
		t.Fatalf("over the bound: %d held (want only the member event), overflow %d (want %d)", len(s.pending), s.overflowed(), maxHeld+5)
	}
	if s.finish(maxHeld + 4) {
		t.Fatal("finish before the last event not held: want the hold kept")
	}
	if !s.held.Load() {
		t.Fatal("hold ended although events were not replayed")
	}
	if !s.finish(maxHeld+5) || s.held.Load() || s.pending != nil || s.after.Load() != maxHeld+5 {
		t.Fatalf("finish at the last event: held %v, pending %d, after %d; want released after %d", s.held.Load(), len(s.pending), s.after.Load(), maxHeld+5)
	}

	// A subscription that does not resume holds only during its handshake:
	// it keeps everything.
	plain := &subscription{c: testClient("1.2")}
	plain.held.Store(true)
	for i := 1; i <= 2*maxHeld; i++ {
		plain.offer(stored(uint64(i)))
	}
	if len(plain.pending) != 2*maxHeld {
		t.Fatalf("handshake hold: %d held, want all %d", len(plain.pending), 2*maxHeld)
	}

	// Events that are not stored cannot be read again: too many of them
	// make a slow consumer.
	c := testClient("1.3")
	busy := &subscription{c: c}
	busy.held.Store(true)
	busy.bound()
	for i := 0; i <= maxHeld; i++ {
		busy.offer(delivery{Delivery: bus.Delivery{Frame: []byte(`{"event":"client-x"}`)}})
	}
	if !c.closed.Load() {
		t.Fatal("more unstored events held than the bound: want the socket closed as a slow consumer")
	}
}

// TestHubLingers: the last subscriber's leave keeps the channel's bus
// subscription for the linger, a new subscriber takes it over, and it ends
// once the channel stayed empty for the linger.
func TestHubLingers(t *testing.T) {
	bs, err := bus.Open(context.Background(), bus.Options{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)}, func(bus.Delivery) {})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bs.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := bs.EnsureApp(ctx, bus.AppStream{Key: "k"}); err != nil {
		t.Fatal(err)
	}
	channels := 0
	h := newHub(bs, func(string, string, int) {})
	h.channelsChanged = func(_ string, d int) { channels += d }
	h.linger = 200 * time.Millisecond
	hubChan := func() *hubChannel {
		sh := h.shard(chanKey{"k", "c"})
		sh.mu.RLock()
		defer sh.mu.RUnlock()
		return sh.channels[chanKey{"k", "c"}]
	}

	a, b := testClient("1.1"), testClient("1.2")
	if _, err := h.join(a, "k", "c"); err != nil {
		t.Fatal(err)
	}
	first := hubChan().sub
	h.leave(a, "k", "c")
	if hc := hubChan(); hc == nil || hc.sub != first || h.each("k", "c", nil) != 0 || channels != 0 {
		t.Fatalf("after the last leave: channel %v, %d subscribers, %d channels counted; want it lingering, empty, uncounted", hc, h.each("k", "c", nil), channels)
	}
	old := hubChan().lingers
	if _, err := h.join(b, "k", "c"); err != nil {
		t.Fatal(err)
	}
	if hc := hubChan(); hc.sub != first || hc.expiry != nil || channels != 1 {
		t.Fatalf("join of a lingering channel: same subscription %v, expiry %v, %d channels; want it taken over", hc.sub == first, hc.expiry, channels)
	}
	// The old linger's timer firing anyway (it raced the take-over) must
	// not end the subscription.
	h.expire(chanKey{"k", "c"}, hubChan(), old)
	if hubChan() == nil {
		t.Fatal("the taken-over channel expired")
	}
	h.leave(b, "k", "c")
	deadline := time.Now().Add(5 * time.Second)
	for hubChan() != nil {
		if time.Now().After(deadline) {
			t.Fatal("the lingering channel did not expire within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
