package bus

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/pushd/pushd/config"
)

// A relay reaches every other node's handler, with the socket to leave out,
// and never its own node's (the gateway delivered it there already), while
// a stored event still reaches both.
func TestRelayGoesToOtherNodesOnly(t *testing.T) {
	url := startNATS(t, server.Options{}).ClientURL()
	a, gotA, err := openAuth(t, url, config.NATSAuth{})
	if err != nil {
		t.Fatal(err)
	}
	b, gotB, err := openAuth(t, url, config.NATSAuth{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const app, ch = "relay-app", "private-relay"
	if err := a.EnsureApp(ctx, AppStream{Key: app, MaxAge: time.Hour, MaxBytes: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*Bus{a, b} {
		sub, err := n.Subscribe(app, ch)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
	}
	if err := a.Relay(app, Outgoing{Channel: ch, Frame: []byte("client"), Exclude: "7.1"}); err != nil {
		t.Fatal(err)
	}
	if d := next(t, gotB); string(d.Frame) != "client" || d.Exclude != "7.1" || d.Seq != 0 || d.Channel != ch {
		t.Fatalf("other node got %+v, want the relay excluding 7.1", d)
	}
	// A stored event after the relay: the relaying node's first delivery
	// must be it, not its own relay.
	if _, err := a.Publish(ctx, app, Outgoing{Channel: ch, Frame: []byte("stored")}); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]chan Delivery{"relaying node": gotA, "other node": gotB} {
		if d := next(t, got); string(d.Frame) != "stored" {
			t.Fatalf("%s got %q first, want the stored event", name, d.Frame)
		}
	}
}
