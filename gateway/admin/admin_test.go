package admin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushd/pushd/appstore"
	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/config"
)

const token = "test-admin-token-0123456789"

// fixture is an admin API on a real app store (embedded NATS), with the
// streams it asked for recorded.
type fixture struct {
	srv      *httptest.Server
	store    *appstore.Store
	mu       sync.Mutex
	prepared map[string]config.App
	retired  []string
}

func newFixture(t *testing.T, tok string) *fixture {
	t.Helper()
	b, err := bus.Open(context.Background(), bus.Options{DataDir: t.TempDir(), Name: "admin-test"}, func(bus.Delivery) {})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store, err := appstore.Open(ctx, b.JetStream(), appstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = store.Run(rctx, func(appstore.Change) {}) }()
	t.Cleanup(func() { stop(); <-done })
	<-store.Ready()
	f := &fixture{store: store, prepared: map[string]config.App{}}
	mux := http.NewServeMux()
	New(Deps{Store: store, Token: tok,
		Prepare: func(_ context.Context, a config.App) error {
			f.mu.Lock()
			f.prepared[a.Key] = a
			f.mu.Unlock()
			return nil
		},
		Retire: func(_ context.Context, key string) error {
			f.mu.Lock()
			f.retired = append(f.retired, key)
			f.mu.Unlock()
			return nil
		}}).Register(mux)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// call makes a request with the token and returns the status and the
// decoded JSON answer.
func (f *fixture) call(t *testing.T, method, path, body string, header ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, m
}

func TestOffWithoutTokenAndLockedWithOne(t *testing.T) {
	off := newFixture(t, "")
	resp, err := http.Get(off.srv.URL + "/admin/apps")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("admin API without a token configured: %d, want 404", resp.StatusCode)
	}
	on := newFixture(t, token)
	for _, auth := range []string{"", "Bearer wrong", "Bearer " + token + "x", token, "Basic " + token} {
		req, _ := http.NewRequest(http.MethodGet, on.srv.URL+"/admin/apps", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d, want 401", auth, resp.StatusCode)
		}
	}
	if status, _ := on.call(t, http.MethodGet, "/admin/apps", ""); status != http.StatusOK {
		t.Fatalf("with the token: %d", status)
	}
}

func TestCreateShowListUpdateRotateDelete(t *testing.T) {
	f := newFixture(t, token)
	status, m := f.call(t, http.MethodPost, "/admin/apps", `{"max_connections": 5, "cache_ttl": "10m",
		"webhooks": [{"name": "backend", "url": "https://example.com/hook", "events": ["channel_occupied"]}]}`)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, m)
	}
	app := m["app"].(map[string]any)
	key, id, secret := app["key"].(string), app["id"].(string), m["secret"].(string)
	if len(key) != 20 || id == "" || len(secret) != 32 || app["max_connections"] != 5.0 || app["cache_ttl"] != "10m0s" {
		t.Fatalf("created app: %v", m)
	}
	if _, has := app["secret"]; has {
		t.Fatalf("settings carry the secret: %v", app)
	}
	if p := f.prepared[key]; p.MaxEventBytes != 10240 || p.HistoryMaxAge != time.Hour {
		t.Fatalf("prepared %+v, want the app with its defaults (its stream's retention)", p)
	}
	// Shown again: never the secret.
	status, m = f.call(t, http.MethodGet, "/admin/apps/"+key, "")
	if status != http.StatusOK || m["secret"] != nil || strings.Contains(mustJSON(m), secret) {
		t.Fatalf("show: %d %v", status, m)
	}
	rev := m["revision"].(float64)
	status, m = f.call(t, http.MethodGet, "/admin/apps", "")
	if list := mustJSON(m); status != http.StatusOK || !strings.Contains(list, key) || strings.Contains(list, secret) || strings.Contains(list, "max_connections") {
		t.Fatalf("list: %d %s, want keys and ids only", status, list)
	}
	// A partial update, then one at the revision read before it: 409.
	status, m = f.call(t, http.MethodPatch, "/admin/apps/"+key, `{"disabled": true, "cache_ttl": null}`)
	if app := m["app"].(map[string]any); status != http.StatusOK || app["disabled"] != true || app["cache_ttl"] != "0s" || app["max_connections"] != 5.0 {
		t.Fatalf("update: %d %v", status, m)
	}
	if status, m = f.call(t, http.MethodPatch, "/admin/apps/"+key, `{"disabled": false}`, "If-Match", `"`+ftoa(rev)+`"`); status != http.StatusConflict {
		t.Fatalf("update at a stale revision: %d %v, want 409", status, m)
	}
	// Rotation: a new secret, shown once; the old one kept for the grace.
	status, m = f.call(t, http.MethodPost, "/admin/apps/"+key+"/rotate", `{"grace": "90s"}`)
	newSecret, _ := m["secret"].(string)
	if status != http.StatusOK || len(newSecret) != 32 || newSecret == secret || m["has_previous_secret"] != true {
		t.Fatalf("rotate: %d %v", status, m)
	}
	e, _ := f.store.Get(key)
	if e.App.Secret != newSecret || e.App.PreviousSecret != secret || time.Until(e.App.PreviousSecretExpires) > 90*time.Second {
		t.Fatalf("stored after the rotation: %+v", e.App)
	}
	if status, m = f.call(t, http.MethodPost, "/admin/apps/"+key+"/rotate", `{"secret": "chosen-secret-0123456"}`); status != http.StatusOK || m["secret"] != "chosen-secret-0123456" {
		t.Fatalf("rotate to a given secret: %d %v", status, m)
	}
	// Delete: gone, its stream retired; a second delete is 404.
	if status, m = f.call(t, http.MethodDelete, "/admin/apps/"+key, ""); status != http.StatusOK || m["deleted"] != key {
		t.Fatalf("delete: %d %v", status, m)
	}
	if len(f.retired) != 1 || f.retired[0] != key {
		t.Fatalf("retired %v, want [%s]", f.retired, key)
	}
	for _, req := range [][2]string{{http.MethodGet, ""}, {http.MethodDelete, ""}, {http.MethodPatch, "/rotate"}} {
		path := "/admin/apps/" + key
		method := req[0]
		if req[1] != "" {
			method, path = http.MethodPost, path+req[1]
		}
		if status, m := f.call(t, method, path, "{}"); status != http.StatusNotFound {
			t.Errorf("%s %s after the delete: %d %v, want 404", method, path, status, m)
		}
	}
}

func TestBadInputNamesTheFieldAndStoresNothing(t *testing.T) {
	f := newFixture(t, token)
	if status, m := f.call(t, http.MethodPost, "/admin/apps", `{"key": "taken", "id": "42", "secret": "0123456789abcdef"}`); status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, m)
	}
	tests := []struct {
		method, path, body string
		status             int
		field              string
	}{
		{"POST", "/admin/apps", `{"colour": "red"}`, 400, "colour"},
		{"POST", "/admin/apps", `{"max_connections": "many"}`, 400, "max_connections"},
		{"POST", "/admin/apps", `{"max_connections": -1}`, 400, "max_connections"},
		{"POST", "/admin/apps", `{"disabled": "no"}`, 400, "disabled"},
		{"POST", "/admin/apps", `{"secret": "short"}`, 400, "secret"},
		{"POST", "/admin/apps", `{"key": "taken"}`, 400, "key"},
		{"POST", "/admin/apps", `{"key": "has space"}`, 400, "key"},
		{"POST", "/admin/apps", `{"id": "42"}`, 400, "id"},
		{"POST", "/admin/apps", `{"webhook_url": "ftp://example.com"}`, 400, "webhook_url"},
		{"POST", "/admin/apps", `{"webhooks": [{"name": "a", "url": "not a url"}]}`, 400, "webhooks[0].url"},
		{"POST", "/admin/apps", `{"webhooks": [{"name": "a", "url": "http://h", "events": ["nope"]}]}`, 400, "webhooks[0].events"},
		{"POST", "/admin/apps", `{"allowed_origins": "*"}`, 400, "allowed_origins"},
		{"POST", "/admin/apps", `{"encryption_master_key": "c2hvcnQ="}`, 400, "encryption_master_key"},
		{"POST", "/admin/apps", `{"previous_secret": "0123456789abcdef"}`, 400, "previous_secret"},
		{"POST", "/admin/apps", `[1, 2]`, 400, ""},
		{"POST", "/admin/apps", `{"key": "x"} trailing`, 400, ""},
		{"PATCH", "/admin/apps/taken", `{"secret": "0123456789abcdef0"}`, 400, "secret"},
		{"PATCH", "/admin/apps/taken", `{"key": "other"}`, 400, "key"},
		{"PATCH", "/admin/apps/taken", `{"cache_ttl": "forever"}`, 400, "cache_ttl"},
		{"PATCH", "/admin/apps/taken", `{}`, 200, ""},
		{"PATCH", "/admin/apps/taken", `{"disabled": true}`, 409, ""}, // If-Match below
		{"PATCH", "/admin/apps/nobody", `{"disabled": true}`, 404, ""},
		{"POST", "/admin/apps/taken/rotate", `{"grace": "1y"}`, 400, "grace"},
		{"POST", "/admin/apps/taken/rotate", `{"grace": "1000h"}`, 400, "grace"},
		{"POST", "/admin/apps/taken/rotate", `{"secret": "short"}`, 400, "secret"},
		{"POST", "/admin/apps/taken/rotate", `{"secret": 7}`, 400, "secret"},
		{"POST", "/admin/apps/taken/rotate", `{"later": true}`, 400, "later"},
		{"DELETE", "/admin/apps/taken", ``, 400, ""}, // a bad If-Match below
		{"PUT", "/admin/apps/taken", `{}`, 404, ""},
	}
	for _, tt := range tests {
		var header []string
		switch {
		case tt.status == 409:
			header = []string{"If-Match", "1"}
		case tt.method == "DELETE":
			header = []string{"If-Match", "yesterday"}
		}
		status, m := f.call(t, tt.method, tt.path, tt.body, header...)
		field, _ := m["field"].(string)
		if status != tt.status || field != tt.field || (status >= 400 && m["error"] == nil) {
			t.Errorf("%s %s %s: %d %v, want %d naming %q", tt.method, tt.path, tt.body, status, m, tt.status, tt.field)
		}
	}
	if list := f.store.List(); len(list) != 1 || list[0].App.Key != "taken" || list[0].App.Disabled {
		t.Fatalf("store after the refused requests: %+v, want only app taken, as created", list)
	}
	// Only the create refused for its id got as far as declaring a
	// stream, and that stream was retired; app taken's was never touched.
	if len(f.retired) != 1 || f.retired[0] == "taken" {
		t.Fatalf("retired streams %v, want the one of the create refused for id 42", f.retired)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
