package webhook

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pushd/pushd/config"
)

// TestRouteWebmanMode checks that an app in webman mode gets webman/push's
// names without setting webhook_names, with user ids typed as webman/push's
// server types them, and that webhook_names: pusher still wins.
func TestRouteWebmanMode(t *testing.T) {
	app := config.App{Key: "k", Compat: config.CompatWebman, WebhookURL: "http://hook"}
	tests := []struct {
		ev   Event
		want string
	}{
		{Event{Name: ChannelOccupied, Channel: "c"}, `{"channel":"c","name":"channel_added"}`},
		{Event{Name: ChannelVacated, Channel: "c"}, `{"channel":"c","name":"channel_removed"}`},
		{Event{Name: MemberAdded, Channel: "presence-c", UserID: "42"}, `{"channel":"presence-c","user_id":42,"name":"user_added"}`},
		{Event{Name: MemberRemoved, Channel: "presence-c", UserID: "u-1"}, `{"channel":"presence-c","user_id":"u-1","name":"user_removed"}`},
	}
	for _, tt := range tests {
		url, out, ok := route(t, app, tt.ev)
		if !ok || url != "http://hook" {
			t.Fatalf("route %s: got (%q, %v), want http://hook", tt.ev.Name, url, ok)
		}
		raw, _ := json.Marshal(out)
		if string(raw) != tt.want {
			t.Errorf("route %s: got %s, want %s", tt.ev.Name, raw, tt.want)
		}
	}
	app.WebhookNames = config.CompatPusher
	_, out, ok := route(t, app, Event{Name: ChannelOccupied, Channel: "c"})
	if raw, _ := json.Marshal(out); !ok || string(raw) != `{"name":"channel_occupied","channel":"c"}` {
		t.Errorf("webman mode with webhook_names pusher: got %s, want Pusher's channel_occupied", raw)
	}
}

func TestTimeMS(t *testing.T) {
	now := time.Unix(1700000000, 123456000)
	if got := timeMS(config.App{}, now); got != "1700000000123" {
		t.Errorf("pusher time_ms: got %s, want 1700000000123 (ms)", got)
	}
	if got := timeMS(config.App{Compat: config.CompatWebman}, now); got != "1700000000.123456" {
		t.Errorf("webman time_ms: got %s, want 1700000000.123456 (seconds, float)", got)
	}
	if got := timeMS(config.App{WebhookNames: config.CompatWebman}, now); got != "1700000000123" {
		t.Errorf("pusher mode with webman names: got %s, want ms as in Pusher mode", got)
	}
}
