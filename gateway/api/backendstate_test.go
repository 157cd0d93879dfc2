package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/presence"
	"github.com/pushd/pushd/webhook"
)

// backendAPI is an API server on a real embedded NATS with a real presence
// tracker and webhook dispatcher, and a signed caller.
type backendAPI struct {
	b    *bus.Bus
	tr   *presence.Tracker
	call func(method, path string, params url.Values, body string) (int, string)
}

func newBackendAPI(t *testing.T, list ...config.App) backendAPI {
	t.Helper()
	ctx := t.Context()
	log := slog.New(slog.DiscardHandler)
	b, err := bus.Open(ctx, bus.Options{DataDir: t.TempDir(), Logger: log}, func(bus.Delivery) {})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	table := apps.NewTable(list, nil)
	tr, err := presence.New(ctx, b.JetStream(), presence.Options{Node: "n1", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go tr.Run(runCtx, nil)
	<-tr.Ready()
	d, err := webhook.New(ctx, b.JetStream(), webhook.Options{Apps: table.Config, Logger: log, BatchWindow: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	go d.Run(runCtx)
	s, err := New(Deps{Node: "n1", Apps: table, Broker: b, Presence: tr, DeadLetters: d.Dead(), WebhookState: d, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Register(mux)
	srv := httptest.NewServer(s.Handler(mux, nil))
	t.Cleanup(srv.Close)
	a := list[0]
	call := func(method, path string, params url.Values, body string) (int, string) {
		t.Helper()
		q := protocol.SignRequest(a.Key, a.Secret, method, path, params, []byte(body), time.Now())
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path+"?"+q.Encode(), strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	return backendAPI{b: b, tr: tr, call: call}
}

// TestUserStatusAPI: GET /apps/{id}/users/{user} and POST
// /apps/{id}/users/status answer from the cluster-wide #online members, and
// refuse bad input with a 400 that says what to send.
func TestUserStatusAPI(t *testing.T) {
	app := config.App{ID: "9", Key: "k", Secret: "s"}
	app.Defaults()
	api := newBackendAPI(t, app)
	ctx := t.Context()
	status := func(user string) userStatus {
		t.Helper()
		code, body := api.call(http.MethodGet, "/apps/9/users/"+user, nil, "")
		var u userStatus
		if code != http.StatusOK || json.Unmarshal([]byte(body), &u) != nil {
			t.Fatalf("GET user %s: %d %s", user, code, body)
		}
		return u
	}
	if u := status("u1"); u != (userStatus{ID: "u1"}) {
		t.Fatalf("nobody signed in: %+v, want offline with 0 sockets and no since", u)
	}
	before := time.Now().Add(-time.Millisecond)
	for _, sock := range []string{"n1.1", "n1.2"} {
		if err := api.tr.Join(ctx, "k", protocol.OnlineChannel, sock, presence.Member{UserID: "u1"}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	u := status("u1")
	for u.Sockets != 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		u = status("u1")
	}
	if !u.Online || u.Sockets != 2 || u.SinceMS < before.UnixMilli() || u.SinceMS > time.Now().UnixMilli() {
		t.Fatalf("u1 with 2 connections: %+v, want online, 2 sockets, since the first join", u)
	}
	if u := status("status"); u.ID != "status" || u.Online {
		t.Fatalf("GET of the user named status: %+v", u)
	}

	ids := []string{`"u1"`}
	for i := range 99 {
		ids = append(ids, fmt.Sprintf(`"x%d"`, i))
	}
	code, body := api.call(http.MethodPost, "/apps/9/users/status", nil, `{"ids":[`+strings.Join(ids, ",")+`]}`)
	var batch struct{ Users []userStatus }
	if code != http.StatusOK || json.Unmarshal([]byte(body), &batch) != nil || len(batch.Users) != 100 {
		t.Fatalf("100 ids: %d %.200s, want 100 statuses", code, body)
	}
	if b0, b1 := batch.Users[0], batch.Users[1]; b0 != u || b1 != (userStatus{ID: "x0"}) {
		t.Fatalf("batch starts %+v %+v, want u1 as GET says then x0 offline", b0, b1)
	}
	for _, tc := range []struct {
		method, path, body string
		want               int
		msg                string
	}{
		{http.MethodPost, "/apps/9/users/status", `{"ids":[` + strings.Join(append(ids, `"y"`), ",") + `]}`, 400, "at most 100"},
		{http.MethodPost, "/apps/9/users/status", `{"ids":["a",""]}`, 400, "ids[1] is empty"},
		{http.MethodPost, "/apps/9/users/status", `{"ids":[1]}`, 400, "invalid JSON"},
		{http.MethodPost, "/apps/9/users/status", `{}`, 400, "ids is required"},
		{http.MethodPost, "/apps/9/users/u1", `{}`, 405, "GET"},
		{http.MethodGet, "/apps/8/users/u1", "", 404, "unknown app id"},
	} {
		if code, body := api.call(tc.method, tc.path, nil, tc.body); code != tc.want || !strings.Contains(body, tc.msg) {
			t.Errorf("%s %s %.60s: %d %s, want %d mentioning %q", tc.method, tc.path, tc.body, code, body, tc.want, tc.msg)
		}
	}
}

// TestWatchlistAPI: PUT /apps/{id}/users/{user}/watchlist publishes the new
// list to every gateway (the control message they act on), numbers as in
// user_data; bad input is a 400 and publishes nothing.
func TestWatchlistAPI(t *testing.T) {
	app := config.App{ID: "9", Key: "k", Secret: "s", Limits: config.Limits{MaxUserIDLength: 8}}
	app.Defaults()
	api := newBackendAPI(t, app)
	got := make(chan string, 10)
	if err := api.b.SubscribeControl(bus.ControlWatchlist, func(a string, data []byte) { got <- a + " " + string(data) }); err != nil {
		t.Fatal(err)
	}
	if code, body := api.call(http.MethodPut, "/apps/9/users/u1/watchlist", nil, `{"watchlist":["a",7,"b"]}`); code != 200 || body != "{}\n" {
		t.Fatalf("PUT watchlist: %d %s", code, body)
	}
	select {
	case m := <-got:
		if want := `k {"user_id":"u1","watchlist":["a","7","b"]}`; m != want {
			t.Fatalf("control message %s, want %s", m, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no watchlist control message within 5 s")
	}
	long := make([]string, 101)
	for i := range long {
		long[i] = fmt.Sprintf(`"u%d"`, i)
	}
	for _, tc := range []struct {
		body string
		msg  string
	}{
		{`{"watchlist":[` + strings.Join(long, ",") + `]}`, "at most 100"},
		{`{}`, "watchlist is required"},
		{`{"watchlist":[{"id":"a"}]}`, "watchlist[0] is not a user id"},
		{`{"watchlist":["a",""]}`, "watchlist[1] is not a user id"},
		{`{"watchlist":["much-too-long"]}`, "max_user_id_length"},
		{`{"watchlist":"a"}`, "invalid JSON"},
	} {
		if code, body := api.call(http.MethodPut, "/apps/9/users/u1/watchlist", nil, tc.body); code != 400 || !strings.Contains(body, tc.msg) {
			t.Errorf("PUT %.60s: %d %s, want 400 mentioning %q", tc.body, code, body, tc.msg)
		}
	}
	if code, _ := api.call(http.MethodPost, "/apps/9/users/u1/watchlist", nil, `{"watchlist":[]}`); code != 405 {
		t.Errorf("POST watchlist: %d, want 405", code)
	}
	select {
	case m := <-got:
		t.Fatalf("a refused call published %s", m)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestWebhookStateAPI: GET /apps/{id}/webhooks/state names the endpoint
// when the app has several, and answers the dispatcher's snapshot.
func TestWebhookStateAPI(t *testing.T) {
	rcv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(rcv.Close)
	app := config.App{ID: "9", Key: "k", Secret: "s", WebhookURL: rcv.URL,
		Webhooks: []config.WebhookEndpoint{{Name: "members", URL: rcv.URL, Events: []string{"member_added", "member_removed"}}}}
	app.Defaults()
	api := newBackendAPI(t, app)
	for _, tc := range []struct {
		endpoint string
		want     int
		body     string
	}{
		{"", 400, "endpoint=webhook_url, members"},
		{"nope", 404, `no such webhook endpoint: \"nope\"`},
		{"webhook_url", 200, `{"endpoint":"webhook_url","seq":0,"channels":[],"members":{}}`},
		{"members", 200, `{"endpoint":"members","seq":0,"members":{}}`},
	} {
		code, body := api.call(http.MethodGet, "/apps/9/webhooks/state", url.Values{"endpoint": {tc.endpoint}}, "")
		if code != tc.want || !strings.Contains(body, tc.body) {
			t.Errorf("endpoint %q: %d %s, want %d with %s", tc.endpoint, code, body, tc.want, tc.body)
		}
	}
}
