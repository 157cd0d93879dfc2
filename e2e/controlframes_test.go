package e2e

import (
	"errors"
	"net"
	"testing"
	"time"
)

// TestControlFramesAfterIdle: a socket that received an event and then
// stayed idle longer than the server's write timeout (10 s) still answers a
// WebSocket ping with a pong and a close with a close. Before, the pong and
// the close inherited the stale write deadline of the event's write, failed,
// and the socket dropped without a close frame (1006 at the client).
func TestControlFramesAfterIdle(t *testing.T) {
	s := startPushd(t, "")
	// idle connects, receives an API event on its channel (a queued write
	// with a write deadline) and then hears nothing for 11 s.
	idle := func(t *testing.T, channel string) *wsPeer {
		p := dialPeer(t, nil, s.WSAddr, "/app/app-key?protocol=7")
		p.established()
		p.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": channel}})
		p.expect("pusher_internal:subscription_succeeded")
		trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"before-idle","channel":"`+channel+`","data":"x"}`)
		p.expect("before-idle")
		f, err := p.readFrame(11 * time.Second)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("while idle: frame op %d %q, err %v; want nothing for 11 s", f.op, f.payload, err)
		}
		return p
	}

	t.Run("ping", func(t *testing.T) {
		t.Parallel()
		p := idle(t, "idle-ping")
		p.mustSend(wireFrame{fin: true, op: opPing, payload: []byte("still there?")})
		f, err := p.readFrame(5 * time.Second)
		if err != nil {
			t.Fatalf("no pong to a ping after 11 s idle: %v", err)
		}
		p.checkServerFrame(f)
		if f.op != opPong || string(f.payload) != "still there?" {
			t.Fatalf("answer to a ping: op %d payload %q, want a pong with the ping's payload", f.op, f.payload)
		}
		// The socket stays open and served.
		p.mustSend(textFrame(`{"event":"pusher:ping","data":{}}`))
		p.expect("pusher:pong")
		trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"after-idle","channel":"idle-ping","data":"x"}`)
		p.expect("after-idle")
	})

	t.Run("close handshake", func(t *testing.T) {
		t.Parallel()
		p := idle(t, "idle-close")
		p.mustSend(closeFrame(1000, "bye"))
		p.expectClose(1000, 5*time.Second)
	})
}
