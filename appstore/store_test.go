package appstore

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/config"
)

// openJS starts an embedded NATS with JetStream for the test.
func openJS(t *testing.T) jetstream.JetStream {
	t.Helper()
	b, err := bus.Open(context.Background(), bus.Options{DataDir: t.TempDir(), Name: "appstore-test"}, func(bus.Delivery) {})
	if err != nil {
		t.Fatalf("open bus: %v", err)
	}
	t.Cleanup(b.Close)
	return b.JetStream()
}

// gateway is one store with its watcher running, as a gateway has it; last
// is what its latest apply got.
type gateway struct {
	*Store
	mu   sync.Mutex
	last Change
	logs *syncBuffer
}

func (g *gateway) apps() map[string]config.App {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string]config.App{}
	for _, e := range g.last.Apps {
		out[e.App.Key] = e.App
	}
	return out
}

func (g *gateway) deleted() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.last.Deleted
}

// waitApps waits (bounded) until the gateway's apps satisfy ok.
func (g *gateway) waitApps(t *testing.T, what string, ok func(map[string]config.App) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok(g.apps()) {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: the gateway has %v", what, g.apps())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		_ = g.waitFor(ctx, func() bool { return false }) // the next apply, or 100 ms
		cancel()
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startGateway opens the store on js and runs its watcher until the test ends.
func startGateway(t *testing.T, js jetstream.JetStream) *gateway {
	t.Helper()
	logs := &syncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, js, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	g := &gateway{Store: s, logs: logs}
	rctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Run(rctx, func(c Change) {
			g.mu.Lock()
			g.last = c
			g.mu.Unlock()
		})
	}()
	t.Cleanup(func() { stop(); <-done })
	select {
	case <-s.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("store not ready within 5s")
	}
	return g
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestChangesReachEveryGateway(t *testing.T) {
	js := openJS(t)
	a, b := startGateway(t, js), startGateway(t, js)
	ctx := testCtx(t)
	e, err := a.Create(ctx, config.App{ID: "9", Key: "new-key", Secret: "0123456789abcdef"}, SourceAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Wait(ctx, e.Revision); err != nil {
		t.Fatal(err)
	}
	if got := a.apps()["new-key"]; got.Secret != "0123456789abcdef" {
		t.Fatalf("the writing gateway's apply after Wait: %+v, want the new app", got)
	}
	b.waitApps(t, "the new app on the other gateway", func(m map[string]config.App) bool { return m["new-key"].ID == "9" })

	u, err := b.Update(ctx, "new-key", 0, func(a *config.App) error { a.Disabled = true; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if u.Revision <= e.Revision || u.Created != e.Created || !u.Updated.After(e.Updated) && !u.Updated.Equal(e.Updated) {
		t.Fatalf("update: %+v after %+v", u, e)
	}
	a.waitApps(t, "the app disabled everywhere", func(m map[string]config.App) bool { return m["new-key"].Disabled })

	if err := a.Delete(ctx, "new-key", 0); err != nil {
		t.Fatal(err)
	}
	b.waitApps(t, "the app deleted everywhere", func(m map[string]config.App) bool { _, ok := m["new-key"]; return !ok })
	if d := b.deleted(); len(d) != 1 || d[0] != "new-key" {
		t.Fatalf("deleted keys %v, want [new-key]", d)
	}
	if err := a.WaitGone(ctx, "new-key"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Update(ctx, "new-key", 0, func(*config.App) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of a deleted app: %v, want ErrNotFound", err)
	}
	// The id is free again.
	if _, err := a.Create(ctx, config.App{ID: "9", Key: "other", Secret: "s"}, SourceAPI); err != nil {
		t.Fatalf("the deleted app's id for another app: %v", err)
	}
}

// Writes that race never lose one another: with rev 0 each is applied on
// the latest settings; with the revision read, a stale one is refused.
func TestConcurrentWritesAreNotLost(t *testing.T) {
	js := openJS(t)
	a, b := startGateway(t, js), startGateway(t, js)
	ctx := testCtx(t)
	e, err := a.Create(ctx, config.App{Key: "k", Secret: "s"}, SourceAPI)
	if err != nil {
		t.Fatal(err)
	}
	const each = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	conflicts := 0
	for _, g := range []*gateway{a, b} {
		wg.Go(func() {
			for range each {
				_, err := g.Update(ctx, "k", 0, func(a *config.App) error { a.MaxConnections++; return nil })
				if errors.Is(err, ErrConflict) {
					mu.Lock()
					conflicts++
					mu.Unlock()
				} else if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	cur, err := a.current(ctx, "k", true)
	if err != nil {
		t.Fatal(err)
	}
	if cur.App.MaxConnections+conflicts != 2*each {
		t.Fatalf("max_connections %d after %d increments (%d refused as conflicts): an update was lost", cur.App.MaxConnections, 2*each, conflicts)
	}
	t.Logf("%d increments from two gateways, %d refused after %d tries", 2*each, conflicts, writeTries)
	if _, err := b.Update(ctx, "k", e.Revision, func(a *config.App) error { a.Disabled = true; return nil }); !errors.Is(err, ErrConflict) {
		t.Fatalf("update at a stale revision: %v, want ErrConflict", err)
	}
	if err := b.Delete(ctx, "k", e.Revision); !errors.Is(err, ErrConflict) {
		t.Fatalf("delete at a stale revision: %v, want ErrConflict", err)
	}
	if err := b.Delete(ctx, "k", cur.Revision); err != nil {
		t.Fatalf("delete at the current revision: %v", err)
	}
}

func TestDuplicatesAndInvalidSettingsAreRefused(t *testing.T) {
	js := openJS(t)
	a, b := startGateway(t, js), startGateway(t, js)
	ctx := testCtx(t)
	if _, err := a.Create(ctx, config.App{ID: "1", Key: "one", Secret: "s",
		Webhooks: []config.WebhookEndpoint{{Name: "sink", NATSSubject: "hooks.one"}}}, SourceAPI); err != nil {
		t.Fatal(err)
	}
	b.waitApps(t, "app one", func(m map[string]config.App) bool { return m["one"].ID == "1" })
	for _, tt := range []struct {
		app   config.App
		field string
	}{
		{config.App{Key: "one", Secret: "s"}, "key"},
		{config.App{ID: "1", Key: "two", Secret: "s"}, "id"},
		{config.App{Key: "two", Secret: "s", Webhooks: []config.WebhookEndpoint{{Name: "x", NATSSubject: "hooks.one"}}}, "webhooks[0].nats_subject"},
		{config.App{Key: "two", Secret: "s", WebhookURL: "not a url"}, "webhook_url"},
		{config.App{Key: "two", Secret: "s", Limits: config.Limits{MaxConnections: -1}}, "max_connections"},
	} {
		if _, err := b.Create(ctx, tt.app, SourceAPI); config.ErrorField(err) != tt.field {
			t.Errorf("create %q (id %q): %v (field %q), want field %q", tt.app.Key[:min(len(tt.app.Key), 10)], tt.app.ID, err, config.ErrorField(err), tt.field)
		}
	}
	if _, err := b.Update(ctx, "one", 0, func(a *config.App) error { a.Key = "renamed"; return nil }); config.ErrorField(err) != "key" {
		t.Fatalf("changing the key: %v", err)
	}
	// Nothing of the refused writes is stored.
	if keys := b.kvKeys(t); strings.Join(keys, " ") != "app.one id.1" {
		t.Fatalf("bucket keys %v, want only app one's", keys)
	}
	// A claim left by a create that never finished is taken over.
	if _, err := a.kv().Put(ctx, idKey("2"), []byte("ghost")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Create(ctx, config.App{ID: "2", Key: "two", Secret: "s"}, SourceAPI); err != nil {
		t.Fatalf("id whose claim has no app: %v", err)
	}
	// Changing an id frees the old one.
	if _, err := b.Update(ctx, "two", 0, func(a *config.App) error { a.ID = "3"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Create(ctx, config.App{ID: "2", Key: "four", Secret: "s"}, SourceAPI); err != nil {
		t.Fatalf("an id given up by an update: %v", err)
	}
}

func (g *gateway) kvKeys(t *testing.T) []string {
	t.Helper()
	l, err := g.kv().ListKeys(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range l.Keys() {
		keys = append(keys, k)
	}
	return sortStrings(keys)
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

// A value that does not read is logged and skipped; the app keeps the
// settings it had and the others are untouched.
func TestCorruptValuesAreSkipped(t *testing.T) {
	js := openJS(t)
	a := startGateway(t, js)
	ctx := testCtx(t)
	for _, k := range []string{"good", "victim"} {
		if _, err := a.Create(ctx, config.App{Key: k, Secret: "s", Limits: config.Limits{MaxConnections: 7}}, SourceAPI); err != nil {
			t.Fatal(err)
		}
	}
	a.waitApps(t, "two apps", func(m map[string]config.App) bool { return len(m) == 2 })
	corrupt := map[string]string{
		"victim":  `{"schema":1,"source":"api","app":{"key":"victim","secret":`,
		"newer":   `{"schema":2,"source":"api","app":{"key":"newer","secret":"s"}}`,
		"foreign": `{"schema":1,"source":"api","app":{"key":"someone-else","secret":"s"}}`,
		"invalid": `{"schema":1,"source":"api","app":{"key":"invalid","secret":"s","max_connections":-3}}`,
	}
	var last uint64
	for k, v := range corrupt {
		rev, err := a.kv().Put(ctx, appKey(k), []byte(v))
		if err != nil {
			t.Fatal(err)
		}
		last = max(last, rev)
	}
	if _, err := a.kv().Put(ctx, "app._zz", []byte("{}")); err != nil { // not a token
		t.Fatal(err)
	}
	e, err := a.Update(ctx, "good", 0, func(a *config.App) error { a.MaxConnections = 8; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Wait(ctx, max(last, e.Revision)); err != nil {
		t.Fatal(err)
	}
	m := a.apps()
	if len(m) != 2 || m["victim"].MaxConnections != 7 || m["good"].MaxConnections != 8 {
		t.Fatalf("apps after corrupt values: %+v; want victim as it was and good updated", m)
	}
	logs := a.logs.String()
	for _, want := range []string{`app=victim`, `app=newer`, "schema 2, written by a newer pushd", `app=foreign`, `app=invalid`, "max_connections: must not be negative"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log does not mention %q:\n%s", want, logs)
		}
	}
	// A fresh watcher (a gateway starting now) reads the same.
	b := startGateway(t, js)
	if m := b.apps(); len(m) != 1 || m["good"].MaxConnections != 8 {
		t.Fatalf("a gateway starting with corrupt values in the bucket: %+v, want the good app", m)
	}
}

func TestSeedFileWinsForTheAppsItNames(t *testing.T) {
	js := openJS(t)
	a := startGateway(t, js)
	ctx := testCtx(t)
	file := []config.App{{ID: "1", Key: "f1", Secret: "s1"}, {Key: "f2", Secret: "s2"}}
	res, err := a.Seed(ctx, file, true)
	if err != nil || res.Created != 2 {
		t.Fatalf("first seed: %+v %v", res, err)
	}
	if err := a.Wait(ctx, res.Revision); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Create(ctx, config.App{Key: "api", Secret: "s"}, SourceAPI); err != nil {
		t.Fatal(err)
	}
	// The same file again writes nothing.
	if res, err := a.Seed(ctx, file, true); err != nil || res.Same != 2 || res.Revision != 0 {
		t.Fatalf("seed of the same file: %+v %v", res, err)
	}
	// A change through the admin API is undone by the next seed.
	if _, err := a.Update(ctx, "f1", 0, func(a *config.App) error { a.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	res, err = a.Seed(ctx, []config.App{{ID: "1", Key: "f1", Secret: "s1"}, {Key: "api", Secret: "from-file"}}, true)
	if err != nil || res.Updated != 2 || res.Deleted != 1 {
		t.Fatalf("seed without f2, naming api: %+v %v", res, err)
	}
	a.waitApps(t, "the file's apps", func(m map[string]config.App) bool {
		_, f2 := m["f2"]
		return len(m) == 2 && !m["f1"].Disabled && m["api"].Secret == "from-file" && !f2
	})
	if e, _ := a.Get("api"); e.Source != SourceFile {
		t.Fatalf("an app the file names: source %q, want file", e.Source)
	}
	// Without pruning (a gateway with no file, only its generated app)
	// nothing is deleted.
	if res, err := a.Seed(ctx, []config.App{{Key: "generated", Secret: "s"}}, false); err != nil || res.Created != 1 || res.Deleted != 0 {
		t.Fatalf("seed without pruning: %+v %v", res, err)
	}
	a.waitApps(t, "the generated app beside the others", func(m map[string]config.App) bool { return len(m) == 3 })
	// An id the file gives that an app of the API has is refused.
	if _, err := a.Create(ctx, config.App{ID: "7", Key: "api2", Secret: "s"}, SourceAPI); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Seed(ctx, []config.App{{ID: "7", Key: "f3", Secret: "s"}}, true); config.ErrorField(err) != "id" {
		t.Fatalf("seed with an id an API app has: %v", err)
	}
}

func TestRotate(t *testing.T) {
	js := openJS(t)
	a := startGateway(t, js)
	ctx := testCtx(t)
	if _, err := a.Create(ctx, config.App{Key: "k", Secret: "first-secret-000"}, SourceAPI); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	e, err := a.Rotate(ctx, "k", 0, "second-secret-00", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got := e.App
	if got.Secret != "second-secret-00" || got.PreviousSecret != "first-secret-000" ||
		got.PreviousSecretExpires.Before(before.Add(time.Hour)) || got.PreviousSecretExpires.After(time.Now().Add(time.Hour)) {
		t.Fatalf("after the rotation: %+v", got)
	}
	if err := a.Wait(ctx, e.Revision); err != nil {
		t.Fatal(err)
	}
	if m := a.apps(); m["k"].PreviousSecret != "first-secret-000" {
		t.Fatalf("applied: %+v", m["k"])
	}
}
