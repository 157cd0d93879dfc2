package config

import (
	"fmt"
	"slices"
)

// webhookEventNames are the names webhook_events may list: Pusher's,
// Pushd's user_online and user_offline, and webman/push's for the four
// events it has. Either naming filters the same events whichever naming the
// app's webhooks carry (package webhook keeps the mapping; a test there
// keeps this list in step with it).
var webhookEventNames = []string{
	"channel_occupied", "channel_vacated", "member_added", "member_removed",
	"client_event", "cache_miss", SubscriptionCountEvent, "user_online", "user_offline",
	"channel_added", "channel_removed", "user_added", "user_removed",
}

// unknownEventHint says which names an event filter takes.
const unknownEventHint = "Pusher's names, user_online, user_offline, or webman's channel_added, channel_removed, user_added, user_removed"

// KnownWebhookEvent reports whether webhook_events may list name.
func KnownWebhookEvent(name string) bool { return slices.Contains(webhookEventNames, name) }

// validateWebhookEvents refuses a filter naming an event that does not
// exist: a typo would otherwise silence that webhook without a word.
func validateWebhookEvents(a App) error {
	for i, n := range a.WebhookEvents {
		if !KnownWebhookEvent(n) {
			return fieldErr(fmt.Sprintf("webhook_events[%d]", i), "app %q: webhook_events: unknown event %q (%s)", a.Key, n, unknownEventHint)
		}
	}
	return nil
}
