package webhook

import (
	"encoding/json"
	"testing"

	"github.com/pushd/pushd/config"
)

func TestRoute(t *testing.T) {
	pusher := config.App{Key: "k", WebhookURL: "http://hook"}
	filtered := config.App{Key: "k", WebhookURL: "http://hook", WebhookEvents: []string{"channel_occupied", "user_removed"}}
	webman := config.App{Key: "k", WebhookNames: "webman", ChannelHookURL: "http://ch", UserHookURL: "http://user"}
	webmanFallback := config.App{Key: "k", WebhookNames: "webman", WebhookURL: "http://hook"}
	webmanFiltered := config.App{Key: "k", WebhookNames: "webman", WebhookURL: "http://hook", WebhookEvents: []string{"user_removed"}}
	pusherByWebmanName := config.App{Key: "k", WebhookURL: "http://hook", WebhookEvents: []string{"channel_added"}}
	none := config.App{Key: "k"}
	occ := Event{Name: ChannelOccupied, Channel: "c"}
	vac := Event{Name: ChannelVacated, Channel: "c"}
	add := Event{Name: MemberAdded, Channel: "presence-c", UserID: "u"}
	rem := Event{Name: MemberRemoved, Channel: "presence-c", UserID: "u"}
	cli := Event{Name: ClientEvent, Channel: "private-c", Event: "client-x", Data: "{}", SocketID: "1.1"}

	tests := []struct {
		name    string
		app     config.App
		ev      Event
		wantURL string // "" = not sent
		want    string // JSON of the event object
	}{
		{"pusher occupied", pusher, occ, "http://hook", `{"name":"channel_occupied","channel":"c"}`},
		{"pusher client event", pusher, cli, "http://hook", `{"name":"client_event","channel":"private-c","event":"client-x","data":"{}","socket_id":"1.1"}`},
		{"no url", none, occ, "", ""},
		{"filter keeps", filtered, occ, "http://hook", `{"name":"channel_occupied","channel":"c"}`},
		{"filter drops", filtered, vac, "", ""},
		{"webman channel_added", webman, occ, "http://ch", `{"channel":"c","name":"channel_added"}`},
		{"webman channel_removed", webman, vac, "http://ch", `{"channel":"c","name":"channel_removed"}`},
		{"webman user_added", webman, add, "http://user", `{"channel":"presence-c","user_id":"u","name":"user_added"}`},
		{"webman user_removed", webman, rem, "http://user", `{"channel":"presence-c","user_id":"u","name":"user_removed"}`},
		{"webman no client events", webman, cli, "", ""},
		{"webman fallback channel", webmanFallback, occ, "http://hook", `{"channel":"c","name":"channel_added"}`},
		{"webman fallback user", webmanFallback, rem, "http://hook", `{"channel":"presence-c","user_id":"u","name":"user_removed"}`},
		{"webman filter by webman name", webmanFiltered, rem, "http://hook", `{"channel":"presence-c","user_id":"u","name":"user_removed"}`},
		{"webman filter drops", webmanFiltered, add, "", ""},
		{"pusher filter by webman name", pusherByWebmanName, occ, "http://hook", `{"name":"channel_occupied","channel":"c"}`},
		{"pusher filter by webman name drops", pusherByWebmanName, vac, "", ""},
		{"webman no url", config.App{WebhookNames: "webman"}, occ, "", ""},
		{"user_online not by default", pusher, Event{Name: UserOnline, UserID: "u"}, "", ""},
		{"user_online named", config.App{Key: "k", WebhookURL: "http://hook", WebhookEvents: []string{UserOnline}},
			Event{Name: UserOnline, UserID: "u"}, "http://hook", `{"name":"user_online","user_id":"u"}`},
		{"user_offline not in webman naming", config.App{Key: "k", WebhookNames: "webman", WebhookURL: "http://hook", WebhookEvents: []string{UserOffline}},
			Event{Name: UserOffline, UserID: "u"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, out, ok := route(t, tt.app, tt.ev)
			if ok != (tt.wantURL != "") || url != tt.wantURL {
				t.Fatalf("route: got (%q, ok=%v), want %q", url, ok, tt.wantURL)
			}
			if !ok {
				return
			}
			raw, err := json.Marshal(out)
			if err != nil {
				t.Fatal(err)
			}
			if string(raw) != tt.want {
				t.Errorf("event object: got %s, want %s", raw, tt.want)
			}
		})
	}
}

// route is the one endpoint of app that takes ev: its URL and the event
// object; ok is false when none does. More than one fails t.
func route(t *testing.T, app config.App, ev Event) (url string, out any, ok bool) {
	t.Helper()
	for i := range numEndpoints(&app) {
		e := endpointAt(&app, i)
		if !e.takes(ev) {
			continue
		}
		if ok {
			t.Fatalf("%s taken by endpoints %s and %s", ev.Name, url, e.url)
		}
		url, out, ok = e.url, e.shape(&app, ev), true
	}
	return url, out, ok
}

func TestRecordsOnly(t *testing.T) {
	onlyOccupied := config.App{WebhookURL: "http://hook", WebhookEvents: []string{ChannelOccupied}}
	tests := []struct {
		name string
		app  config.App
		ev   string
		want bool
	}{
		{"vacated filtered, occupied wanted", onlyOccupied, ChannelVacated, true},
		{"removed filtered, added not wanted", onlyOccupied, MemberRemoved, false},
		{"client event never", onlyOccupied, ClientEvent, false},
		{"no webhooks at all", config.App{}, ChannelVacated, false},
	}
	for _, tt := range tests {
		if got := recordsOnly(&tt.app, Event{Name: tt.ev, Channel: "c"}); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestFilterNamesKnownToConfig: every name an app's webhook_events may
// usefully list (each event's Pusher name and webman name) passes config
// validation, so the two lists stay in step.
func TestFilterNamesKnownToConfig(t *testing.T) {
	names := []string{ChannelOccupied, ChannelVacated, MemberAdded, MemberRemoved, ClientEvent, CacheMiss, SubscriptionCount,
		UserOnline, UserOffline}
	for _, n := range webmanNames {
		names = append(names, n)
	}
	for _, n := range names {
		if !config.KnownWebhookEvent(n) {
			t.Errorf("config refuses webhook_events name %q", n)
		}
	}
}

// TestWantedEitherNames: an app's webhook_events filter may list Pusher's
// names or webman/push's, whichever naming the app's webhooks use.
func TestWantedEitherNames(t *testing.T) {
	webman := []string{"channel_added", "channel_removed", "user_added", "user_removed"}
	pusher := []string{ChannelOccupied, ChannelVacated, MemberAdded, MemberRemoved}
	for _, filter := range [][]string{webman, pusher} {
		for i, name := range pusher {
			if !Wanted([]string{filter[i]}, name) {
				t.Errorf("webhook_events [%s]: %s not wanted", filter[i], name)
			}
			if other := pusher[(i+1)%len(pusher)]; Wanted([]string{filter[i]}, other) {
				t.Errorf("webhook_events [%s]: %s wanted too", filter[i], other)
			}
		}
	}
}
