package gateway

import (
	"fmt"
	"testing"

	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/protocol"
)

// A client event reaches the sender's node's subscribers straight away and
// the other nodes' through NATS: each subscriber gets it once, in order,
// and the sender never.
func TestClientEventOnceOnEveryNode(t *testing.T) {
	url := startTestNATS(t)
	apps := []config.App{{ID: "1", Key: "k", Secret: "s", Limits: config.Limits{ClientEventsPerSec: 1000}}}
	a, b := startTestNode(t, url, apps), startTestNode(t, url, apps)
	const ch = "private-chat"
	sender, local, remote := dialPeer(t, a, "k"), dialPeer(t, a, "k"), dialPeer(t, b, "k")
	for _, p := range []*peer{sender, local, remote} {
		p.subscribe(ch, "s")
	}
	const n = 50
	for i := range n {
		sender.send(fmt.Sprintf(`{"event":"client-n","channel":%q,"data":{"i":%d}}`, ch, i))
	}
	remote.waitFrame("the last client event", func(f peerFrame) bool { return f.Event == "client-n" && data(f) == fmt.Sprintf(`{"i":%d}`, n-1) })
	// The remote's reply goes through NATS after the sender's events did,
	// so once it reached the local subscriber any copy of the sender's
	// events coming back through NATS would have reached it too.
	remote.send(fmt.Sprintf(`{"event":"client-done","channel":%q,"data":{}}`, ch))
	local.waitFrame("client-done", func(f peerFrame) bool { return f.Event == "client-done" })
	sender.waitFrame("client-done", func(f peerFrame) bool { return f.Event == "client-done" })

	for name, p := range map[string]*peer{"local": local, "remote": remote} {
		var got []string
		for _, f := range p.snapshot() {
			if f.Event == "client-n" {
				got = append(got, data(f))
			}
		}
		if len(got) != n {
			t.Fatalf("%s subscriber got %d client events, want %d: %v", name, len(got), n, got)
		}
		for i, d := range got {
			if want := fmt.Sprintf(`{"i":%d}`, i); d != want {
				t.Fatalf("%s subscriber: event %d is %s, want %s", name, i, d, want)
			}
		}
	}
	for _, f := range sender.snapshot() {
		if f.Event == "client-n" {
			t.Fatalf("the sender got its own client event back: %s", f.raw)
		}
	}
}

// data is a frame's data as the protocol relays it (a JSON string unquoted).
func data(f peerFrame) string {
	s, _ := protocol.DataString(f.Data)
	return s
}
