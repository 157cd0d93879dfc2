package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/apps"
)

// closeStatus is the error gws gives OnClose for a close frame the server
// sent itself (its own status code).
type closeStatus uint16

func (s closeStatus) Uint16() uint16 { return uint16(s) }
func (s closeStatus) Error() string  { return "gws: " }

// TestServerCloseIsNotAProtocolError: a socket the server closed with a
// Pusher code (4009 from the console's disconnect; the close itself is
// logged as "closing connection") ends with a routine "disconnected" line,
// while a close for a WebSocket protocol error (1009) is still a refusal.
func TestServerCloseIsNotAProtocolError(t *testing.T) {
	var buf bytes.Buffer
	l := newSockLog(context.Background(), slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	c := &client{socketID: "1.1"}
	c.appPtr.Store(&app{App: config.App{Key: "k"}, Runtime: &apps.Runtime{}})
	l.disconnected(c, closeStatus(4009))
	l.disconnected(c, closeStatus(1009))
	var lines []map[string]any
	for _, s := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("log line %q: %v", s, err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2: %s", len(lines), buf.String())
	}
	if got := lines[0]; got["msg"] != "disconnected" || got["level"] != "DEBUG" || got["code"] != float64(4009) {
		t.Errorf("the server's 4009 close: %v, want a debug disconnected line with code 4009", got)
	}
	if got := lines[1]; got["msg"] != "connection closed for a protocol error" || got["code"] != float64(1009) {
		t.Errorf("the 1009 close: %v, want the protocol error line", got)
	}
}
