package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/config"
)

// TestChannelNameAtNATSLimit is issue 13 #5: with max_channel_name_length
// raised above ~1,350, one anonymous subscribe made a NATS subject over the
// server's 4 KB control line: the NATS connection closed for good, every API
// call answered 503 and the webhook dispatcher stopped. The setting is now
// bounded by config validation; a pushd configured at the bound takes a
// subscribe (and a presence member) with maximal names made only of bytes
// that expand in a subject, sends their webhooks and keeps serving.
func TestChannelNameAtNATSLimit(t *testing.T) {
	const userLen = 128 // the default max_user_id_length
	max := config.MaxChannelNameLength(hookKey, userLen)
	r := newHookReceiver(t, map[string]string{hookKey: hookSecret})
	t.Cleanup(r.checkSigned)
	s := startPushdWith(t, fmt.Sprintf(`
apps:
  - id: "1"
    key: %s
    secret: %s
    webhook_url: %s
    max_channel_name_length: %d
    max_user_id_length: %d
`, hookKey, hookSecret, r.URL("/pusher"), max, userLen))

	public := strings.Repeat("=;", max)[:max]
	presence := "presence-" + strings.Repeat(";", max-len("presence-"))
	user := strings.Repeat("é", userLen/2) // 2 bytes each, and each byte expands
	c, id := connect(t, s, hookKey)
	c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": public}})
	c.expect("pusher_internal:subscription_succeeded")
	joinPresence(t, c, id, hookKey, hookSecret, presence, user, "")
	r.wait("channel_occupied of the longest public channel", 10*time.Second, hookIs("channel_occupied", public))
	r.wait("member_added of the longest user on the longest presence channel", 10*time.Second, hookUser("member_added", presence, user))

	for _, ch := range []string{public, presence} {
		trigger(t, s, hookKey, hookSecret, "/apps/1/events", `{"name":"long","channel":"`+ch+`","data":"1"}`)
		if f := c.nextWithin(10 * time.Second); f.Event != "long" || f.Channel != ch {
			t.Fatalf("got %.200s, want event long on the %d-byte channel", f.raw, len(ch))
		}
	}
	over := public + ";"
	c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": over}})
	if f := c.expect("pusher:subscription_error"); !strings.Contains(f.dataString(t), "InvalidChannel") {
		t.Fatalf("one byte over the limit: %.200s, want InvalidChannel", f.raw)
	}
	if st := readyStatus(t, s); st != http.StatusOK {
		t.Fatalf("readyz %d after the longest names, want 200", st)
	}
	if m := channelInfo(t, s, hookKey, hookSecret, "1", public, "subscription_count"); fmtAny(m["subscription_count"]) != "1" {
		t.Fatalf("channel info of the longest channel: %v, want 1 subscriber", m)
	}
	if logs := s.log.String(); strings.Contains(logs, "nats disconnected") || strings.Contains(logs, "maximum control line") {
		t.Fatalf("the NATS connection broke:\n%s", logs)
	}

	// A longer setting is refused at start with the field and the bound.
	cfg := filepath.Join(t.TempDir(), "over.yaml")
	yaml := fmt.Sprintf("apps:\n  - key: %s\n    secret: %s\n    max_channel_name_length: %d\n", hookKey, hookSecret, max+1)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	out := runPushdFails(t, 10*time.Second, nil, "--data-dir", t.TempDir(), "--config", cfg)
	if !strings.Contains(out, "max_channel_name_length "+strconv.Itoa(max+1)+" is over "+strconv.Itoa(max)) {
		t.Fatalf("pushd with max_channel_name_length %d said:\n%s\nwant the field and the bound %d", max+1, out, max)
	}
}
