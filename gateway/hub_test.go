package gateway

import (
	"context"
	"log/slog"
	"testing"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/metrics"
)

// TestHubJoinWhenSubscribeFails: a channel whose bus subscription cannot be
// made (NATS is gone) refuses the join with the error, leaves no channel
// behind, and a later leave of the same client does not panic on a nil
// subscription (it did: the failed *bus.Subscription was stored in the
// Unsubscriber interface as a non-nil value holding nil).
func TestHubJoinWhenSubscribeFails(t *testing.T) {
	bs, err := bus.Open(context.Background(), bus.Options{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)}, func(bus.Delivery) {})
	if err != nil {
		t.Fatal(err)
	}
	bs.Close() // every Subscribe now fails
	counts := map[string]int{}
	h := newHub(bs, func(_, channel string, n int) { counts[channel] = n })
	a := &app{App: config.App{Key: "k"}, Runtime: &apps.Runtime{Metrics: metrics.New().ForApp("k")}}
	c := &client{socketID: "1.1"}
	c.appPtr.Store(a)
	s, err := h.join(c, "k", "news")
	if err == nil || s != nil {
		t.Fatalf("join on a closed bus: %v, %v; want an error and no subscription", s, err)
	}
	if n := h.each("k", "news", nil); n != 0 || counts["news"] != 0 {
		t.Fatalf("after a failed join: %d local subscribers, count %d; want 0", n, counts["news"])
	}
	if h.leave(c, "k", "news") {
		t.Fatal("leave after a failed join reported a membership")
	}
}
