package e2e

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/internal/gws"
)

// TestErrorMessagesSayWhatToFix: every pusher:error and
// pusher:subscription_error keeps its Pusher code (or type and status) and
// its text names what to change (the app_key, the auth endpoint's signing,
// the setting and its value); no text holds a secret or a signature, and a
// close reason is the whole message (a close frame holds 123 bytes).
func TestErrorMessagesSayWhatToFix(t *testing.T) {
	s := startPushd(t, "")
	secrets := []string{"app-secret", "noclient-secret", "small-secret", "members-secret", "authonly-secret", "quota-secret"}
	check := func(t *testing.T, msg string, want []string, forbidden ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("message %q does not say %q", msg, w)
			}
		}
		for _, f := range append(forbidden, secrets...) {
			if f != "" && strings.Contains(msg, f) {
				t.Errorf("message %q contains %q", msg, f)
			}
		}
	}
	errorFrame := func(t *testing.T, c *rawClient, code int) string {
		t.Helper()
		f := skipPings(c)
		if f.Event != "pusher:error" {
			t.Fatalf("got %s, want pusher:error", f.raw)
		}
		var d struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(f.Data, &d); err != nil {
			t.Fatalf("pusher:error data %s: %v", f.Data, err)
		}
		if d.Code != code {
			t.Fatalf("pusher:error %s: code %d, want %d", f.raw, d.Code, code)
		}
		return d.Message
	}
	subError := func(t *testing.T, c *rawClient, typ string, status int) string {
		t.Helper()
		f := skipPings(c)
		if f.Event != "pusher:subscription_error" {
			t.Fatalf("got %s, want pusher:subscription_error", f.raw)
		}
		var d struct {
			Type   string `json:"type"`
			Error  string `json:"error"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal([]byte(f.dataString(t)), &d); err != nil {
			t.Fatalf("subscription_error data %s: %v", f.Data, err)
		}
		if d.Type != typ || d.Status != status {
			t.Fatalf("subscription_error %s: got %s %d, want %s %d", f.raw, d.Type, d.Status, typ, status)
		}
		return d.Error
	}
	// refused checks a connection refused at the handshake: the frame's
	// message, then the same text as the close reason.
	refused := func(t *testing.T, c *rawClient, code int, want ...string) {
		t.Helper()
		msg := errorFrame(t, c, code)
		check(t, msg, want)
		if reason := c.expectClose(uint16(code), 5*time.Second); reason != msg || len(reason) > 123 {
			t.Errorf("close reason %q (%d bytes), want the whole message %q within 123 bytes", reason, len(reason), msg)
		}
	}

	t.Run("handshake", func(t *testing.T) {
		refused(t, dialRaw(t, s.WSURL("nope")+"?protocol=7"), protocol.CodeAppNotFound, "new Push({app_key})", "apps[].key")
		refused(t, dialRaw(t, s.WSURL("off-key")), protocol.CodeAppDisabled, "disabled: false")
		refused(t, dialRaw(t, "ws://"+s.WSAddr+"/ws/app/app-key"), protocol.CodePathNotFound, "/app/{app_key}", "new Push({url})")
		refused(t, dialRaw(t, s.WSURL("app-key")+"?protocol=x"), protocol.CodeInvalidVersion, "?protocol=7")
		refused(t, dialRaw(t, s.WSURL("app-key")+"?protocol=-0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000004"),
			protocol.CodeUnsupportedProtocol, "version -4", "use protocol 7")
		refused(t, dialRawHeader(t, s.WSURL("quota-key"), http.Header{"Origin": []string{"https://evil.example"}}),
			protocol.CodeUnauthorized, "allowed_origins")
	})

	t.Run("frames", func(t *testing.T) {
		c, _ := connect(t, s, "app-key")
		for _, tc := range []struct {
			frame string
			want  []string
		}{
			{`not json`, []string{`JSON object with an "event" field`}},
			{`{"data":{}}`, []string{"no event name", `"event" field`}},
			{`{"event":"pusher:bogus"}`, []string{"pusher:bogus", "pusher:subscribe", "client- events"}},
			{`{"event":"pusher:subscribe","data":"nope"}`, []string{`data must be {"channel"}`}},
			{`{"event":"pusher:unsubscribe","data":5}`, []string{`data must be {"channel"}`}},
			{`{"event":"client-x","channel":"news","data":{}}`, []string{"private- or presence- channel", "backend"}},
			{`{"event":"client-x","channel":"private-elsewhere","data":{}}`, []string{"not subscribed", "subscription_succeeded"}},
			{`{"event":"client-x","channel":"private-encrypted-x","data":{}}`, []string{"encrypted", "backend"}},
		} {
			c.send(tc.frame)
			check(t, errorFrame(t, c, protocol.CodeInvalidMessage), tc.want)
		}
		if err := c.conn.WriteMessage(gws.OpcodeBinary, []byte{1}); err != nil {
			t.Fatal(err)
		}
		check(t, errorFrame(t, c, protocol.CodeInvalidMessage), []string{"JSON text frame"})
	})

	t.Run("subscriptions", func(t *testing.T) {
		c, sid := connect(t, s, "app-key")
		sub := func(d map[string]string) { c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": d}) }
		sub(map[string]string{"channel": "bad channel"})
		check(t, subError(t, c, "InvalidChannel", 400), []string{"at most 200 characters", "A-Z a-z 0-9"})
		sub(map[string]string{"channel": "private-a"})
		check(t, subError(t, c, "AuthError", 401), []string{"no auth given", "new Push({auth})"})
		sub(map[string]string{"channel": "private-a", "auth": "just-a-signature"})
		check(t, subError(t, c, "AuthError", 401), []string{`"app_key:signature"`})
		sub(map[string]string{"channel": "private-a", "auth": protocol.ChannelAuth("other-key", "app-secret", sid, "private-a", "")})
		check(t, subError(t, c, "AuthError", 401), []string{"another app_key", "this app's key and secret"})
		want := protocol.ChannelAuth("app-key", "app-secret", sid, "private-a", "")
		sub(map[string]string{"channel": "private-a", "auth": protocol.ChannelAuth("app-key", "wrong-secret", sid, "private-a", "")})
		check(t, subError(t, c, "AuthError", 401), []string{"sign socket_id:channel_name with this app's secret", "socket_id"}, want, want[len("app-key:"):])
		cd := `{"user_id":"u1"}`
		want = protocol.ChannelAuth("app-key", "app-secret", sid, "presence-a", cd)
		sub(map[string]string{"channel": "presence-a", "channel_data": cd, "auth": protocol.ChannelAuth("app-key", "app-secret", "1.1", "presence-a", cd)})
		check(t, subError(t, c, "AuthError", 401), []string{"socket_id:channel_name:channel_data"}, want[len("app-key:"):])
		sub(map[string]string{"channel": "#server-to-user-u1"})
		check(t, subError(t, c, "AuthError", 401), []string{"sign in first"})
		bad := `{"user":"u1"}`
		sub(map[string]string{"channel": "presence-b", "channel_data": bad, "auth": protocol.ChannelAuth("app-key", "app-secret", sid, "presence-b", bad)})
		check(t, subError(t, c, "InvalidChannelData", 400), []string{"user_id", "auth endpoint"})

		m, msid := connect(t, s, "members-key")
		presence := func(ch, cd string) {
			m.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{
				"channel": ch, "channel_data": cd, "auth": protocol.ChannelAuth("members-key", "members-secret", msid, ch, cd)}})
		}
		presence("presence-m", `{"user_id":"123456789"}`)
		check(t, subError(t, m, "LimitReached", 400), []string{"max_user_id_length", "8 characters"})
		presence("presence-m", `{"user_id":"u","user_info":"`+strings.Repeat("i", 80)+`"}`)
		check(t, subError(t, m, "LimitReached", 400), []string{"max_user_info_bytes", "64 bytes"})
		for i := range 2 {
			o, osid := connect(t, s, "members-key")
			cd := `{"user_id":"o` + strconv.Itoa(i) + `"}`
			o.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{
				"channel": "presence-full", "channel_data": cd, "auth": protocol.ChannelAuth("members-key", "members-secret", osid, "presence-full", cd)}})
			o.expect("pusher_internal:subscription_succeeded")
		}
		presence("presence-full", `{"user_id":"late"}`)
		check(t, subError(t, m, "LimitReached", 429), []string{"max_presence_members 2"})
	})

	t.Run("client events", func(t *testing.T) {
		private := func(key, secret string) (*rawClient, string) {
			c, sid := connect(t, s, key)
			c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{
				"channel": "private-ce", "auth": protocol.ChannelAuth(key, secret, sid, "private-ce", "")}})
			c.expect("pusher_internal:subscription_succeeded")
			return c, sid
		}
		c, _ := private("noclient-key", "noclient-secret")
		c.send(`{"event":"client-x","channel":"private-ce","data":{}}`)
		check(t, errorFrame(t, c, protocol.CodeClientEventLimit), []string{"disable_client_events", "backend"})

		c, _ = private("small-key", "small-secret")
		c.send(`{"event":"client-x","channel":"private-ce","data":"` + strings.Repeat("d", 150) + `"}`)
		check(t, errorFrame(t, c, protocol.CodeInvalidMessage), []string{"150 bytes", "max_event_bytes (100)"})
		c.send(`{"event":"client-` + strings.Repeat("n", 250) + `","channel":"private-ce","data":{}}`)
		check(t, errorFrame(t, c, protocol.CodeInvalidMessage), []string{"max_event_name_length", "200 bytes"})
		_, _ = connect(t, s, "small-key") // its second connection
		refused(t, dialRaw(t, s.WSURL("small-key")), protocol.CodeOverQuota, "max_connections 2")

		c, _ = private("app-key", "app-secret")
		for range 30 {
			c.send(`{"event":"client-x","channel":"private-ce","data":{}}`)
		}
		check(t, errorFrame(t, c, protocol.CodeClientEventLimit), []string{"client_events_per_second (10)"})
	})

	t.Run("signin", func(t *testing.T) {
		c, sid := connect(t, s, "app-key")
		ud := `{"id":"u1"}`
		want := protocol.UserAuth("app-key", "app-secret", sid, ud)
		c.sendJSON(map[string]any{"event": "pusher:signin", "data": map[string]string{"user_data": ud, "auth": protocol.UserAuth("app-key", "nope", sid, ud)}})
		check(t, errorFrame(t, c, protocol.CodeUnauthorized), []string{"socket_id::user::user_data", "this app's secret"}, want[len("app-key:"):])
		c.sendJSON(map[string]any{"event": "pusher:signin", "data": 7})
		check(t, errorFrame(t, c, protocol.CodeUnauthorized), []string{`"auth", "user_data"`})
		long := `{"id":"` + strings.Repeat("u", 200) + `"}`
		c.sendJSON(map[string]any{"event": "pusher:signin", "data": map[string]string{"user_data": long, "auth": protocol.UserAuth("app-key", "app-secret", sid, long)}})
		check(t, errorFrame(t, c, protocol.CodeUnauthorized), []string{"max_user_id_length"})
		c.sendJSON(map[string]any{"event": "pusher:signin", "data": map[string]string{"user_data": ud, "auth": want}})
		c.expect("pusher:signin_success")
		other := `{"id":"u2"}`
		c.sendJSON(map[string]any{"event": "pusher:signin", "data": map[string]string{"user_data": other, "auth": protocol.UserAuth("app-key", "app-secret", sid, other)}})
		check(t, errorFrame(t, c, protocol.CodeUnauthorized), []string{"new connection"})
	})

	t.Run("closed by the server", func(t *testing.T) {
		idle, _ := connect(t, s, "authonly-key")
		refused(t, idle, protocol.CodeUnauthorized, "user_authentication_timeout", "private- or presence- channel")
		c, _ := connect(t, s, "app-key")
		s.stop(t)
		refused(t, c, protocol.CodeReconnect, "reconnect")
	})
}

// skipPings returns the next frame that is not the server's pusher:ping
// (small-key's activity_timeout is 1 s).
func skipPings(c *rawClient) frame {
	c.t.Helper()
	for {
		if f := c.next(); f.Event != "pusher:ping" {
			return f
		}
	}
}
