package console

import (
	"encoding/json"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/webhook"
)

// webhookEntry is a webhook attempt as the page shows it.
type webhookEntry struct {
	Type     string         `json:"type"` // webhook
	Node     string         `json:"node"`
	Endpoint string         `json:"endpoint"`
	Delivery string         `json:"delivery"`
	Events   []webhookEvent `json:"events"`
	Channels []string       `json:"channels,omitempty"`
	Error    string         `json:"error,omitempty"`
	TimeMS   int64          `json:"time_ms"`
}

// webhookEvent is one event of the attempt, without its data.
type webhookEvent struct {
	Name    string `json:"name"`
	Channel string `json:"channel,omitempty"`
	UserID  string `json:"user_id,omitempty"`
	Event   string `json:"event,omitempty"`
}

// WebhookFeed is what the webhook dispatcher calls after each attempt
// (webhook.Options.Attempted): an attempt for an app that a console
// watches goes to the app's feed, which every node's console reads, with
// each event's name, channel, user and client event (no data). For an app
// no console watches it costs one atomic load.
func WebhookFeed(table *apps.Table, notify func(app, kind string, data []byte) error, node string) func(string, webhook.Attempt) {
	return func(app string, at webhook.Attempt) {
		if a := table.Get(app); a == nil || !a.Watched() {
			return
		}
		e := webhookEntry{Type: "webhook", Node: node, Endpoint: at.Endpoint, Delivery: at.Delivery, Error: at.Error,
			TimeMS: time.Now().UnixMilli()}
		seen := map[string]bool{}
		for _, raw := range at.Events {
			var ev webhookEvent
			if json.Unmarshal(raw, &ev) != nil {
				continue
			}
			e.Events = append(e.Events, ev)
			if ev.Channel != "" && !seen[ev.Channel] {
				seen[ev.Channel] = true
				e.Channels = append(e.Channels, ev.Channel)
			}
		}
		if b, err := json.Marshal(e); err == nil {
			_ = notify(app, bus.ControlFeed, b)
		}
	}
}
