package webhook

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/protocol"
)

// TestDeadLetterAPI: the signed API behind `pushd webhooks failed|replay`.
func TestDeadLetterAPI(t *testing.T) {
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

	mux := http.NewServeMux()
	d.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	call := func(key, secret, method, path string, params url.Values) (int, string) {
		t.Helper()
		q := protocol.SignRequest(key, secret, method, path, params, nil, time.Now())
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path+"?"+q.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	code, body := call(testKey, testSecret, http.MethodGet, "/apps/42/webhooks/failed", nil)
	var ans FailedAnswer
	if code != http.StatusOK || json.Unmarshal([]byte(body), &ans) != nil || len(ans.Failed) != 1 {
		t.Fatalf("GET failed: %d %s, want 200 with one dead letter", code, body)
	}
	if dl := ans.Failed[0]; dl.Endpoint != config.EndpointWebhookURL || dl.Channels[0] != "room" || !strings.Contains(dl.Error, "502") {
		t.Errorf("dead letter: %+v", dl)
	}
	refusals := []struct {
		name                string
		key, secret, method string
		path                string
		params              url.Values
		want                int
		msg                 string
	}{
		{"wrong secret", testKey, "not-the-secret", http.MethodGet, "/apps/42/webhooks/failed", nil, 401, "auth_signature"},
		{"unknown key", "nobody", "x", http.MethodGet, "/apps/42/webhooks/failed", nil, 401, "auth_key"},
		{"other app's id", testKey, testSecret, http.MethodGet, "/apps/7/webhooks/failed", nil, 404, "unknown app id"},
		{"GET replay", testKey, testSecret, http.MethodGet, "/apps/42/webhooks/replay", nil, 405, "POST"},
		{"bad since", testKey, testSecret, http.MethodGet, "/apps/42/webhooks/failed", url.Values{"since": {"yesterday"}}, 400, "since"},
		{"bad limit", testKey, testSecret, http.MethodGet, "/apps/42/webhooks/failed", url.Values{"limit": {"0"}}, 400, "limit"},
	}
	for _, r := range refusals {
		if code, body := call(r.key, r.secret, r.method, r.path, r.params); code != r.want || !strings.Contains(body, r.msg) {
			t.Errorf("%s: got %d %s, want %d mentioning %q", r.name, code, body, r.want, r.msg)
		}
	}
	// Another app sees none of them; since filters by the time they died.
	if code, body := call("other", "other-secret", http.MethodGet, "/apps/1/webhooks/failed", nil); code != 200 || !strings.Contains(body, `"failed":[]`) {
		t.Errorf("other app: got %d %s, want an empty list", code, body)
	}
	future := url.Values{"since": {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}}
	if code, body := call(testKey, testSecret, http.MethodGet, "/apps/42/webhooks/failed", future); code != 200 || !strings.Contains(body, `"failed":[]`) {
		t.Errorf("since in an hour: got %d %s, want an empty list", code, body)
	}

	rcv.setStatus(func(int) int { return http.StatusOK })
	code, body = call(testKey, testSecret, http.MethodPost, "/apps/42/webhooks/replay", url.Values{"since": {"1h"}})
	var res ReplayResult
	if code != http.StatusOK || json.Unmarshal([]byte(body), &res) != nil || res.Replayed != 1 {
		t.Fatalf("POST replay: %d %s, want 200 with 1 replayed", code, body)
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
