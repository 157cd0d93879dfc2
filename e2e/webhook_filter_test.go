package e2e

import (
	"fmt"
	"testing"
	"time"
)

// TestWebhookFilters: webhook_events filters are applied in one place (the
// webhook package), after the reported state was kept. With a filter of
// [channel_occupied], the unsent channel_vacated still moves the state, so
// a channel that empties and fills again reports channel_occupied twice (the
// gateway used to drop the vacated before the state saw it, and the second
// occupied was suppressed as "same as last reported"). An app with
// webman's webhooks that filters on webman's own name [user_removed] gets its user_removed.
func TestWebhookFilters(t *testing.T) {
	t.Parallel() // mostly waits (timeouts, delays, a peer dying): runs beside the others
	const (
		occKey, occSecret = "occ-key", "occ-secret"
		wmKey, wmSecret   = "wmf-key", "wmf-secret"
	)
	r := newHookReceiver(t, map[string]string{occKey: occSecret, wmKey: wmSecret})
	s := startPushdWith(t, fmt.Sprintf(`
apps:
  - id: "1"
    key: %s
    secret: %s
    webhook_url: %s
    webhook_events: [channel_occupied]
  - id: "2"
    key: %s
    secret: %s
    webhook_names: webman
    user_hook: %s
    webhook_events: [user_removed]
`, occKey, occSecret, r.URL("/occ"), wmKey, wmSecret, r.URL("/webman/user")))
	t.Cleanup(r.checkSigned)

	const ch = "refill"
	a, _ := connect(t, s, occKey)
	subscribePublic(t, a, ch)
	r.wait("the first channel_occupied", 5*time.Second, hookIs("channel_occupied", ch))
	unsubscribe(a, ch)
	// The vacated is held for the debounce delay, then settled (not sent).
	time.Sleep(hookDelay + time.Second)
	subscribePublic(t, a, ch)
	r.waitCount("a second channel_occupied", 2, 10*time.Second, hookIs("channel_occupied", ch))
	r.none("channel_vacated (filtered out)", 200*time.Millisecond, hookIs("channel_vacated", ch))

	const pch = "presence-filtered"
	b, sid := connect(t, s, wmKey)
	joinPresence(t, b, sid, wmKey, wmSecret, pch, "42", "")
	unsubscribe(b, pch)
	got := r.wait("user_removed", 10*time.Second, hookIs("user_removed", pch))
	if got.Path != "/webman/user" || got.UserID != "42" {
		t.Fatalf("user_removed %v, want it at /webman/user for user 42", got)
	}
	r.none("user_added (filtered out)", 200*time.Millisecond, hookIs("user_added", pch))
}
