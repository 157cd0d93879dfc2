package webhook

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/config"
)

// TestFailedAndReplay: Failed lists an app's dead letters (by the time they
// died), and Replay sends them again once the receiver is back. The signed
// HTTP API over them is gateway/api's (webhooks_test.go there).
func TestFailedAndReplay(t *testing.T) {
	js := startNATS(t)()
	rcv := newReceiver(t, testKey, testSecret)
	rcv.status = func(int) int { return http.StatusBadGateway }
	app := config.App{ID: "42", Key: testKey, Secret: testSecret, WebhookURL: rcv.srv.URL}
	app.WebhookRetryFor = 300 * time.Millisecond
	other := config.App{Key: "other", Secret: "other-secret"}
	d := newDispatcher(t, js, testOptions(t, apps(app, other), nil))
	run(t, d)
	enqueue(t, d, testKey, Event{Name: ChannelOccupied, Channel: "room"}, "o")
	waitFor(t, 5*time.Second, "a dead letter", func() bool { return d.Stats().Dead == 1 })

	list, more, err := d.Dead().Failed(t.Context(), testKey, time.Time{}, DefaultLimit)
	if err != nil || more || len(list) != 1 {
		t.Fatalf("Failed: %v, more %v, %v; want one dead letter", list, more, err)
	}
	if dl := list[0]; dl.Endpoint != config.EndpointWebhookURL || dl.Channels[0] != "room" || !strings.Contains(dl.Error, "502") {
		t.Errorf("dead letter: %+v", dl)
	}
	if list, _, _ := d.Dead().Failed(t.Context(), "other", time.Time{}, DefaultLimit); len(list) != 0 {
		t.Errorf("another app's dead letters: %v, want none", list)
	}
	if list, _, _ := d.Dead().Failed(t.Context(), testKey, time.Now().Add(time.Hour), DefaultLimit); len(list) != 0 {
		t.Errorf("dead letters since an hour from now: %v, want none", list)
	}
	rcv.setStatus(func(int) int { return http.StatusOK })
	res, err := d.Dead().Replay(t.Context(), testKey, time.Now().Add(-time.Hour), DefaultLimit)
	if err != nil || res.Replayed != 1 {
		t.Fatalf("Replay: %+v, %v; want 1 replayed", res, err)
	}
	if got := rcv.received(t); len(got) != 1 || got[0].Name != ChannelOccupied {
		t.Errorf("replayed: got %v, want the channel_occupied", names(got))
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-11-30T10:00:00Z", time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC), true},
		{"1700000000", time.Unix(1700000000, 0), true},
		{"90m", now.Add(-90 * time.Minute), true},
		{"-5m", time.Time{}, false},
		{"yesterday", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := ParseSince(tt.in, now)
		if (err == nil) != tt.ok || tt.ok && !got.Equal(tt.want) {
			t.Errorf("ParseSince(%q): got %v, %v; want %v (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
