package e2e

import "testing"

// TestPresenceJS runs e2e/node/presence.test.mjs (pusher-js presence:
// tabs, members list, user_id on client events, limits, users endpoint).
// The members app of testApps (id 6, at most 2 members) reaches node as
// MEMBERS_*: runNode passes the process environment on.
func TestPresenceJS(t *testing.T) {
	t.Setenv("MEMBERS_ID", "6")
	t.Setenv("MEMBERS_KEY", "members-key")
	t.Setenv("MEMBERS_SECRET", "members-secret")
	runNode(t, startPushd(t, ""), "presence.test.mjs")
}
