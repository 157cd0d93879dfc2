package e2e

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
)

// logLine is one JSON line of pushd's log.
type logLine map[string]any

func (l logLine) str(k string) string { s, _ := l[k].(string); return s }

func (l logLine) num(k string) int { f, _ := l[k].(float64); return int(f) }

// jsonLog parses pushd's output, which in --log-format json must be JSON
// on every line (the banner included).
func (s *server) jsonLog(t *testing.T) []logLine {
	t.Helper()
	var out []logLine
	for _, line := range strings.Split(s.log.String(), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var m logLine
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("with --log-format json pushd wrote a line that is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// waitLog waits (bounded) for a log line with msg for which match holds.
func (s *server) waitLog(t *testing.T, what, msg string, match func(logLine) bool) logLine {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, l := range s.jsonLog(t) {
			if l.str("msg") == msg && match(l) {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q line for %s within 10 s; log:\n%s", msg, what, lastBytes(s.log.String(), 4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// from is a dialer whose connections come from a loopback address of their
// own (127.0.0.N): each check below is its own source for the log's
// per-address limit.
func from(n int) *net.Dialer {
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(n))}}
}

// remoteOf is the host a line's remote address names.
func remoteOf(l logLine) string {
	h, _, _ := net.SplitHostPort(l.str("remote"))
	return h
}

// TestLogsExplain is issue 15 "Logs": at --log-level debug every connect,
// subscribe and disconnect is a debug line, every refusal an info line with
// the app, socket, channel, remote address and reason, never a secret or a
// signature; a flood from one address is cut to a few lines that say how
// many were held back, without silencing other addresses; with
// --log-format json every line is JSON, the banner included; a clean
// shutdown warns of nothing.
func TestLogsExplain(t *testing.T) {
	s := startPushd(t, "", "--log-level", "debug", "--log-format", "json")
	ws := "/app/app-key?protocol=7"

	t.Run("banner is one JSON line with the real URLs", func(t *testing.T) {
		l := s.waitLog(t, "the banner", "pushd ready", func(logLine) bool { return true })
		if got, want := l.str("websocket"), "ws://"+s.WSAddr+"/app/app-key"; !strings.HasPrefix(got, want) {
			t.Errorf("banner websocket %q, want it to start with %q", got, want)
		}
		apps, _ := l["apps"].([]any)
		if len(apps) != 8 {
			t.Fatalf("banner apps: %v, want the 8 configured", l["apps"])
		}
		if a, _ := apps[0].(map[string]any); a["websocket"] != "ws://"+s.WSAddr+"/app/app-key" || a["secret"] != "(configured)" {
			t.Errorf("banner's first app: %v", a)
		}
	})

	var sid string
	t.Run("connect, subscribe, unsubscribe, disconnect at debug", func(t *testing.T) {
		p := dialPeer(t, from(2), s.WSAddr, ws)
		sid = p.established()
		l := s.waitLog(t, "the connect", "connected", func(l logLine) bool { return l.str("socket_id") == sid })
		if l.str("level") != "DEBUG" || l.str("app") != "app-key" || remoteOf(l) != "127.0.0.2" {
			t.Errorf("connect line %v: want DEBUG, app app-key, remote 127.0.0.2", l)
		}
		p.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": "news"}})
		p.expect("pusher_internal:subscription_succeeded")
		s.waitLog(t, "the subscribe", "subscribed", func(l logLine) bool {
			return l.str("socket_id") == sid && l.str("channel") == "news" && l.str("level") == "DEBUG"
		})
		p.sendJSON(map[string]any{"event": "pusher:unsubscribe", "data": map[string]string{"channel": "news"}})
		s.waitLog(t, "the unsubscribe", "unsubscribed", func(l logLine) bool { return l.str("socket_id") == sid && l.str("channel") == "news" })
		p.mustSend(closeFrame(1000, "bye"))
		l = s.waitLog(t, "the disconnect", "disconnected", func(l logLine) bool { return l.str("socket_id") == sid })
		if l.str("level") != "DEBUG" || l.num("code") != 1000 || l.str("connected_for") == "" {
			t.Errorf("disconnect line %v: want DEBUG with code 1000 and connected_for", l)
		}
	})

	t.Run("unknown app key (4001)", func(t *testing.T) {
		p := dialPeer(t, from(3), s.WSAddr, "/app/no-such-key?protocol=7")
		p.expectClose(protocol.CodeAppNotFound, 5*time.Second)
		l := s.waitLog(t, "the unknown key", "connection refused", func(l logLine) bool { return remoteOf(l) == "127.0.0.3" })
		if l.str("level") != "INFO" || l.num("code") != 4001 || l.str("app") != "no-such-key" || !strings.Contains(l.str("reason"), "application does not exist") {
			t.Errorf("refusal line %v: want INFO, code 4001, app no-such-key and the reason", l)
		}
	})

	t.Run("bad channel signature", func(t *testing.T) {
		p := dialPeer(t, from(4), s.WSAddr, ws)
		id := p.established()
		bad := "app-key:" + strings.Repeat("ab", 32)
		p.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": "private-secret-plans", "auth": bad}})
		p.expect("pusher:subscription_error")
		l := s.waitLog(t, "the bad signature", "subscription refused", func(l logLine) bool { return l.str("socket_id") == id })
		if l.str("level") != "INFO" || l.str("channel") != "private-secret-plans" || remoteOf(l) != "127.0.0.4" ||
			l.str("app") != "app-key" || !strings.Contains(l.str("reason"), "signature does not match") {
			t.Errorf("refusal line %v: want INFO with channel, app, remote 127.0.0.4 and the reason", l)
		}
		want := protocol.ChannelAuth("app-key", "app-secret", id, "private-secret-plans", "")
		for _, secret := range []string{bad[len("app-key:"):], want[len("app-key:"):], "app-secret"} {
			if strings.Contains(s.log.String(), secret) {
				t.Errorf("the log holds a signature or the secret (%s…)", secret[:8])
			}
		}
	})

	t.Run("invalid frame (4300)", func(t *testing.T) {
		p := dialPeer(t, from(5), s.WSAddr, ws)
		id := p.established()
		p.mustSend(textFrame("this is not json"))
		p.expect("pusher:error")
		l := s.waitLog(t, "the invalid frame", "frame refused", func(l logLine) bool { return l.str("socket_id") == id })
		if l.str("level") != "INFO" || l.num("code") != 4300 || remoteOf(l) != "127.0.0.5" || l.str("reason") == "" {
			t.Errorf("refusal line %v: want INFO, code 4300, remote and reason", l)
		}
	})

	t.Run("client-event flood (4301)", func(t *testing.T) {
		p := dialPeer(t, from(6), s.WSAddr, ws)
		id := p.established()
		p.subscribePrivate(id, "private-chat")
		var frames []wireFrame
		for i := 0; i < 30; i++ {
			frames = append(frames, textFrame(`{"event":"client-typing","channel":"private-chat","data":{}}`))
		}
		p.mustSend(frames...)
		l := s.waitLog(t, "the client-event flood", "frame refused", func(l logLine) bool {
			return l.str("socket_id") == id && l.num("code") == protocol.CodeClientEventLimit
		})
		if l.str("channel") != "private-chat" || !strings.Contains(l.str("reason"), "client_events_per_second") {
			t.Errorf("refusal line %v: want the channel and the reason", l)
		}
	})

	t.Run("frame over 64 KiB (1009)", func(t *testing.T) {
		p := dialPeer(t, from(7), s.WSAddr, ws)
		id := p.established()
		_ = p.send(textFrame(`{"event":"pusher:ping","data":"` + strings.Repeat("x", 70<<10) + `"}`))
		p.awaitClose(5 * time.Second)
		l := s.waitLog(t, "the 1009 close", "connection closed for a protocol error", func(l logLine) bool { return l.str("socket_id") == id })
		if l.str("level") != "INFO" || l.num("code") != 1009 || remoteOf(l) != "127.0.0.7" {
			t.Errorf("close line %v: want INFO, code 1009, remote 127.0.0.7", l)
		}
	})

	t.Run("API 401 and 413", func(t *testing.T) {
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: from(8).DialContext}}
		body := `{"name":"e","channel":"news","data":"{}"}`
		q := protocol.SignRequest("app-key", "wrong-secret", http.MethodPost, "/apps/1/events", nil, []byte(body), time.Now())
		resp, err := hc.Post(s.APIURL()+"/apps/1/events?"+q.Encode(), "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong secret: %d, want 401", resp.StatusCode)
		}
		l := s.waitLog(t, "the 401", "api request refused", func(l logLine) bool { return l.num("status") == 401 })
		if l.str("level") != "INFO" || l.str("app") != "app-key" || remoteOf(l) != "127.0.0.8" ||
			l.str("endpoint") == "" || !strings.Contains(l.str("reason"), "invalid auth_signature") {
			t.Errorf("401 line %v: want INFO, app, remote 127.0.0.8, endpoint and reason", l)
		}
		if strings.Contains(s.log.String(), q.Get("auth_signature")) {
			t.Errorf("the log holds the request's signature")
		}

		big := strings.Repeat("x", 200<<10)
		q = protocol.SignRequest("small-key", "small-secret", http.MethodPost, "/apps/5/events", nil, []byte(big), time.Now())
		resp, err = hc.Post(s.APIURL()+"/apps/5/events?"+q.Encode(), "application/json", strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("200 KiB body: %d, want 413", resp.StatusCode)
		}
		l = s.waitLog(t, "the 413", "api request refused", func(l logLine) bool { return l.num("status") == 413 })
		if l.str("app") != "small-key" || !strings.Contains(l.str("reason"), "larger than the app allows") {
			t.Errorf("413 line %v: want app small-key and the reason", l)
		}
	})

	t.Run("a flood from one address is cut, others still logged", func(t *testing.T) {
		p := dialPeer(t, from(9), s.WSAddr, ws)
		id := p.established()
		var frames []wireFrame
		for i := 0; i < 500; i++ {
			frames = append(frames, textFrame("junk"))
		}
		p.mustSend(frames...)
		for i := 0; i < 500; i++ {
			p.expect("pusher:error")
		}
		// Another address is not silenced by the flood.
		q := dialPeer(t, from(10), s.WSAddr, ws)
		other := q.established()
		q.mustSend(textFrame("junk"))
		q.expect("pusher:error")
		s.waitLog(t, "another address during the flood", "frame refused", func(l logLine) bool { return l.str("socket_id") == other })
		count := func() int {
			n := 0
			for _, l := range s.jsonLog(t) {
				if l.str("msg") == "frame refused" && l.str("socket_id") == id {
					n++
				}
			}
			return n
		}
		if n := count(); n > 20 {
			t.Fatalf("500 invalid frames from one address wrote %d lines, want a handful", n)
		}
		// Once the address's budget is back, its next line says how many
		// were held back.
		deadline := time.Now().Add(10 * time.Second)
		for {
			p.mustSend(textFrame("junk"))
			p.expect("pusher:error")
			found := false
			for _, l := range s.jsonLog(t) {
				found = found || (l.str("socket_id") == id && l.num("suppressed") > 0)
			}
			if found {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no line of the flooding socket says how many were held back; %d lines", count())
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	t.Run("a clean shutdown warns of nothing", func(t *testing.T) {
		s.stop(t)
		for _, l := range s.jsonLog(t) {
			if lv := l.str("level"); lv == "WARN" || lv == "ERROR" {
				t.Errorf("%s line: %v", lv, l)
			}
		}
	})
}
