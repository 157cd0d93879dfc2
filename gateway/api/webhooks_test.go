package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/presence"
	"github.com/pushd/pushd/webhook"
)

// TestDeadLetterAPI: the signed API behind `pushd webhooks failed|replay`,
// on a real embedded NATS with a real webhook dispatcher and receiver: the
// same signed-request check as every API call, then the dispatcher's list
// and replay.
func TestDeadLetterAPI(t *testing.T) {
	ctx := t.Context()
	log := slog.New(slog.DiscardHandler)
	b, err := bus.Open(ctx, bus.Options{DataDir: t.TempDir(), Logger: log}, func(bus.Delivery) {})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	var failing atomic.Bool
	failing.Store(true)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	t.Cleanup(rcv.Close)
	hooked := config.App{ID: "42", Key: "hook-key", Secret: "hook-secret", WebhookURL: rcv.URL}
	hooked.WebhookRetryFor = 300 * time.Millisecond
	table := apps.NewTable([]config.App{hooked, {Key: "other", Secret: "other-secret"}}, nil)
	tr, err := presence.New(ctx, b.JetStream(), presence.Options{Node: "1", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	d, err := webhook.New(ctx, b.JetStream(), webhook.Options{Apps: table.Config, Logger: log,
		RetryBase: 50 * time.Millisecond, BatchWindow: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go d.Run(runCtx)
	s, err := New(Deps{Node: "1", Apps: table, Broker: b, Presence: tr, DeadLetters: d.Dead(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	d.Report("hook-key", webhook.Event{Name: webhook.ClientEvent, Channel: "private-room", Event: "client-x"}, "x")
	deadline := time.Now().Add(10 * time.Second)
	for d.Stats().Dead < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no dead letter within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	mux := http.NewServeMux()
	s.Register(mux)
	srv := httptest.NewServer(s.Handler(mux, nil))
	t.Cleanup(srv.Close)
	call := func(key, secret, method, path string, params url.Values) (int, string) {
		t.Helper()
		q := protocol.SignRequest(key, secret, method, path, params, nil, time.Now())
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path+"?"+q.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	code, body := call("hook-key", "hook-secret", http.MethodGet, "/apps/42/webhooks/failed", nil)
	var ans webhook.FailedAnswer
	if code != http.StatusOK || json.Unmarshal([]byte(body), &ans) != nil || len(ans.Failed) != 1 || !strings.Contains(ans.Failed[0].Error, "502") {
		t.Fatalf("GET failed: %d %s, want 200 with one dead letter (502)", code, body)
	}
	for _, r := range []struct {
		name                string
		key, secret, method string
		path                string
		params              url.Values
		want                int
		msg                 string
	}{
		{"wrong secret", "hook-key", "not-the-secret", http.MethodGet, "/apps/42/webhooks/failed", nil, 401, "auth_signature"},
		{"unknown key", "nobody", "x", http.MethodGet, "/apps/42/webhooks/failed", nil, 401, "auth_key"},
		{"other app's id", "hook-key", "hook-secret", http.MethodGet, "/apps/7/webhooks/failed", nil, 404, "unknown app id"},
		{"GET replay", "hook-key", "hook-secret", http.MethodGet, "/apps/42/webhooks/replay", nil, 405, "POST"},
		{"bad since", "hook-key", "hook-secret", http.MethodGet, "/apps/42/webhooks/failed", url.Values{"since": {"yesterday"}}, 400, "since"},
		{"bad limit", "hook-key", "hook-secret", http.MethodGet, "/apps/42/webhooks/failed", url.Values{"limit": {"0"}}, 400, "limit"},
	} {
		if code, body := call(r.key, r.secret, r.method, r.path, r.params); code != r.want || !strings.Contains(body, r.msg) {
			t.Errorf("%s: got %d %s, want %d mentioning %q", r.name, code, body, r.want, r.msg)
		}
	}
	if code, body := call("other", "other-secret", http.MethodGet, "/apps/1/webhooks/failed", nil); code != 200 || !strings.Contains(body, `"failed":[]`) {
		t.Errorf("other app: got %d %s, want an empty list", code, body)
	}
	failing.Store(false)
	code, body = call("hook-key", "hook-secret", http.MethodPost, "/apps/42/webhooks/replay", url.Values{"since": {"1h"}})
	var res webhook.ReplayResult
	if code != http.StatusOK || json.Unmarshal([]byte(body), &res) != nil || res.Replayed != 1 {
		t.Fatalf("POST replay: %d %s, want 200 with 1 replayed", code, body)
	}
}
