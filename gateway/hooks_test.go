package gateway

import (
	"testing"

	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/webhook"
)

// TestWantedEitherNames: an app's webhook_events filter may list Pusher's
// names or webman/push's, whichever naming the app's webhooks use.
func TestWantedEitherNames(t *testing.T) {
	webmanNames := []string{"channel_added", "channel_removed", "user_added", "user_removed"}
	pusherNames := []string{webhook.ChannelOccupied, webhook.ChannelVacated, webhook.MemberAdded, webhook.MemberRemoved}
	apps := map[string]config.App{
		"webman mode":  {Key: "k", Compat: config.CompatWebman},
		"pusher mode":  {Key: "k"},
		"webman names": {Key: "k", WebhookNames: config.CompatWebman},
	}
	for mode, base := range apps {
		for _, filter := range [][]string{webmanNames, pusherNames} {
			for i, name := range pusherNames {
				a := base
				a.WebhookEvents = []string{filter[i]}
				if !wanted(&app{App: a}, name) {
					t.Errorf("%s, webhook_events [%s]: %s not wanted", mode, filter[i], name)
				}
				other := pusherNames[(i+1)%len(pusherNames)]
				if wanted(&app{App: a}, other) {
					t.Errorf("%s, webhook_events [%s]: %s wanted too", mode, filter[i], other)
				}
			}
		}
	}
}
