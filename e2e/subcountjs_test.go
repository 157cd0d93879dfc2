package e2e

import "testing"

// countApp is an app with subscription counting on: its webhook_events
// names subscription_count (it has no webhook URL, so only the client event
// is sent). It is appended to testApps, whose main app has it off.
const countApp = `  - id: "9"
    key: count-key
    secret: count-secret
    webhook_events: [subscription_count]
`

// TestSubscriptionCountJS runs e2e/node/subcount.test.mjs: pusher-js's
// channel.subscriptionCount follows other clients joining and leaving,
// and no pusher_internal:subscription_count arrives with the setting off
// or on a presence channel. The counting app reaches node as COUNT_*.
func TestSubscriptionCountJS(t *testing.T) {
	t.Setenv("COUNT_ID", "9")
	t.Setenv("COUNT_KEY", "count-key")
	t.Setenv("COUNT_SECRET", "count-secret")
	runNode(t, startPushdWith(t, testApps+countApp), "subcount.test.mjs")
}
