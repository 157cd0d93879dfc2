package e2e

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/internal/gws"
)

func TestHandshakeAndCloseCodes(t *testing.T) {
	s := startPushd(t, "")
	t.Run("established", func(t *testing.T) {
		c := dialRaw(t, s.WSURL("app-key")+"?protocol=7&client=js&version=8.4.0&flash=false")
		f := c.expect("pusher:connection_established")
		var d struct {
			SocketID        string `json:"socket_id"`
			ActivityTimeout int    `json:"activity_timeout"`
		}
		if err := json.Unmarshal([]byte(f.dataString(t)), &d); err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`\A\d+\.\d+\z`).MatchString(d.SocketID) || d.ActivityTimeout != 120 {
			t.Fatalf("got %+v, want a socket id like 123.456 and activity_timeout 120", d)
		}
	})
	t.Run("no query string (webman push.js)", func(t *testing.T) {
		dialRaw(t, s.WSURL("app-key")).established()
	})
	cases := []struct {
		name string
		url  string
		code uint16
	}{
		{"unknown app", s.WSURL("nope") + "?protocol=7", protocol.CodeAppNotFound},
		{"disabled app", s.WSURL("off-key") + "?protocol=7", protocol.CodeAppDisabled},
		{"wrong path", "ws://" + s.WSAddr + "/socket/app-key", protocol.CodePathNotFound},
		{"bad protocol", s.WSURL("app-key") + "?protocol=x", protocol.CodeInvalidVersion},
		{"old protocol", s.WSURL("app-key") + "?protocol=4", protocol.CodeUnsupportedProtocol},
		{"future protocol", s.WSURL("app-key") + "?protocol=8", protocol.CodeUnsupportedProtocol},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, tc.url)
			f := c.expect("pusher:error")
			if got := errorCode(t, f); got != int(tc.code) {
				t.Fatalf("error code %d, want %d", got, tc.code)
			}
			c.expectClose(tc.code, 5*time.Second)
		})
	}
	t.Run("connection quota", func(t *testing.T) {
		a := dialRaw(t, s.WSURL("small-key"))
		a.established()
		b := dialRaw(t, s.WSURL("small-key"))
		b.established()
		c := dialRaw(t, s.WSURL("small-key"))
		c.expect("pusher:error")
		c.expectClose(protocol.CodeOverQuota, 5*time.Second)
		a.conn.WriteClose(1000, nil)
		// The freed slot is usable again once the server saw the close.
		deadline := time.Now().Add(5 * time.Second)
		for {
			d := dialRaw(t, s.WSURL("small-key"))
			if f := d.next(); f.Event == "pusher:connection_established" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("quota slot not freed after a close")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

func TestPingPongAndActivityTimeout(t *testing.T) {
	s := startPushd(t, "")
	c := dialRaw(t, s.WSURL("app-key"))
	c.established()
	c.send(`{"event":"pusher:ping","data":{}}`)
	if f := c.expect("pusher:pong"); f.dataString(t) != "{}" {
		t.Fatalf("pong data %s, want \"{}\"", f.Data)
	}
	// small-key has activity_timeout 1 s and the server waits 2 s for a pong.
	idle := dialRaw(t, s.WSURL("small-key"))
	idle.established()
	idle.expect("pusher:ping")
	idle.send(`{"event":"pusher:pong","data":{}}`)
	idle.expect("pusher:ping") // pinged again after another idle second
	idle.expectClose(protocol.CodePongNotReceived, 6*time.Second)
}

func TestBadInputKeepsServerHealthy(t *testing.T) {
	s := startPushd(t, "")
	c := dialRaw(t, s.WSURL("app-key"))
	c.established()
	for _, bad := range []string{`not json`, `{"data":{}}`, `[]`, `{"event":"pusher:bogus"}`, `{"event":"foo","channel":"x"}`,
		`{"event":"pusher:subscribe","data":"nope"}`, `{"event":"pusher:subscribe","data":{"channel":5}}`} {
		c.send(bad)
		if code := errorCode(t, c.expect("pusher:error")); code != protocol.CodeInvalidMessage {
			t.Fatalf("%s: error code %d, want %d", bad, code, protocol.CodeInvalidMessage)
		}
	}
	if err := c.conn.WriteMessage(gws.OpcodeBinary, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if code := errorCode(t, c.expect("pusher:error")); code != protocol.CodeInvalidMessage {
		t.Fatalf("binary frame: error code %d, want %d", code, protocol.CodeInvalidMessage)
	}
	// Still usable after all of that.
	c.send(`{"event":"pusher:subscribe","data":{"channel":"after-bad"}}`)
	c.expect("pusher_internal:subscription_succeeded")

	big := dialRaw(t, s.WSURL("app-key"))
	big.established()
	// The server stops reading at the header and closes with 1009; the
	// client may see that close frame or, still writing, a reset.
	_ = big.conn.WriteString(`{"event":"client-x","channel":"private-a","data":"` + strings.Repeat("a", 1<<20) + `"}`)
	select {
	case code := <-big.closed:
		if code != 1009 && code != 0 {
			t.Fatalf("1 MB frame: closed with %d, want 1009 (message too big)", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("1 MB frame: connection not closed")
	}

	// A fresh client still connects and receives.
	fresh := dialRaw(t, s.WSURL("app-key"))
	fresh.established()
	fresh.send(`{"event":"pusher:subscribe","data":{"channel":"after-bad"}}`)
	fresh.expect("pusher_internal:subscription_succeeded")
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"ev","channel":"after-bad","data":"hi"}`)
	for _, cl := range []*rawClient{c, fresh} {
		if f := cl.expect("ev"); f.dataString(t) != "hi" || f.Channel != "after-bad" {
			t.Fatalf("got %s, want ev with data hi on after-bad", f.raw)
		}
	}
}

// TestAuthorizedConnections: with user_authentication_timeout, a connection
// that neither signs in nor subscribes to a private channel is closed (4009).
func TestAuthorizedConnections(t *testing.T) {
	s := startPushd(t, "")
	idle, _ := connect(t, s, "authonly-key")
	idle.send(`{"event":"pusher:subscribe","data":{"channel":"public-only"}}`)
	idle.expect("pusher_internal:subscription_succeeded")
	signed, sid := connect(t, s, "authonly-key")
	ud := `{"id":"u1"}`
	signed.sendJSON(map[string]any{"event": "pusher:signin", "data": map[string]string{
		"auth": protocol.UserAuth("authonly-key", "authonly-secret", sid, ud), "user_data": ud}})
	signed.expect("pusher:signin_success")
	private, pid := connect(t, s, "authonly-key")
	private.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{
		"channel": "private-p", "auth": protocol.ChannelAuth("authonly-key", "authonly-secret", pid, "private-p", "")}})
	private.expect("pusher_internal:subscription_succeeded")

	if f := idle.expect("pusher:error"); errorCode(t, f) != protocol.CodeUnauthorized {
		t.Fatalf("idle connection: %s, want error 4009", f.raw)
	}
	idle.expectClose(protocol.CodeUnauthorized, 5*time.Second)
	for _, c := range []*rawClient{signed, private} {
		c.send(`{"event":"pusher:ping","data":{}}`)
		c.expect("pusher:pong")
	}
}
