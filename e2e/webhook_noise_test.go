package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
)

// TestWebhookNoInternalChannelsOrPresenceCounts: as with Pusher, presence
// channels have member events and no subscription_count webhook, and the
// internal channels of a signed-in user (#server-to-user-…) produce no
// webhook at all.
func TestWebhookNoInternalChannelsOrPresenceCounts(t *testing.T) {
	r := newHookReceiver(t, map[string]string{hookKey: hookSecret})
	s := startPushdWith(t, fmt.Sprintf(`
apps:
  - id: "1"
    key: %s
    secret: %s
    webhook_url: %s
    webhook_events: [subscription_count, channel_occupied, channel_vacated, member_added]
`, hookKey, hookSecret, r.URL("/pusher")))
	t.Cleanup(r.checkSigned)

	a, aid := connect(t, s, hookKey)
	ud := `{"id":"u7"}`
	a.sendJSON(map[string]any{"event": "pusher:signin", "data": map[string]string{
		"auth": protocol.UserAuth(hookKey, hookSecret, aid, ud), "user_data": ud}})
	a.expect("pusher:signin_success")
	const pres = "presence-noise"
	joinPresence(t, a, aid, hookKey, hookSecret, pres, "u7", "")
	r.wait("member_added u7", 5*time.Second, hookUser("member_added", pres, "u7"))
	// A public channel after the others: once its count arrives, theirs
	// would have too.
	subscribePublic(t, a, "noise-marker")
	r.wait("subscription_count of the marker", 5*time.Second, func(e hookEvent) bool {
		return e.Name == "subscription_count" && e.Channel == "noise-marker"
	})
	r.none("webhooks of internal channels or presence counts", time.Second, func(e hookEvent) bool {
		return strings.HasPrefix(e.Channel, "#") || (e.Name == "subscription_count" && e.Channel == pres)
	})
}
