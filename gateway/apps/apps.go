// Package apps keeps the applications a node serves, by key: their
// settings, replaced as a whole when the configuration is reloaded, and
// their run-time state (metrics, quotas, connection counts), kept across
// reloads. The socket side, the HTTP API, the console and the webhooks all
// read the same Table.
package apps

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/internal/ratelimit"
	"github.com/pushd/pushd/metrics"
)

// App is one configured application and the state it keeps.
type App struct {
	config.App
	*Runtime
}

// Runtime is what an app keeps across configuration reloads.
type Runtime struct {
	// Metrics are the app's series.
	Metrics *metrics.App
	// Conns counts the app's open connections on this node; ConnMu orders
	// its changes with the count written to the presence bucket.
	Conns  atomic.Int64
	ConnMu sync.Mutex
	// API is the app's cluster-wide API quota on this node, and
	// APIUnreported what this node let through since it last told the
	// other gateways.
	API           ratelimit.Locked
	APIUnreported atomic.Int64
	// watchedUntil is when the consoles watching the app's feed stop
	// counting (unix ns; 0: never watched).
	watchedUntil atomic.Int64
}

// Watch records that a console watches the app's feed until t.
func (r *Runtime) Watch(t time.Time) {
	for {
		old := r.watchedUntil.Load()
		if old >= t.UnixNano() || r.watchedUntil.CompareAndSwap(old, t.UnixNano()) {
			return
		}
	}
}

// Watched reports whether a console watches the app's feed: while none
// does, the doors build no feed entries. It costs one atomic load for an
// app never watched.
func (r *Runtime) Watched() bool {
	u := r.watchedUntil.Load()
	return u != 0 && time.Now().UnixNano() < u
}

// Table finds apps by key; a reload swaps the whole map at once, so a
// reader sees either the old apps or the new ones. It is the in-memory view
// every door reads: built from the configuration, or from the app store's
// watcher on every change. A lookup is one map read behind an atomic
// pointer, however many apps there are, and allocates nothing.
type Table struct {
	p       atomic.Pointer[map[string]*App]
	metrics *metrics.Metrics
	deleted *lru.Cache[string, struct{}] // keys of apps deleted lately
}

// deletedKeys is how many keys of deleted apps a table remembers, so that
// the API answers 404 rather than 401 for them; the oldest are forgotten
// first.
const deletedKeys = 10000

// NewTable builds the table of list; m receives the apps' metrics (nil:
// unregistered series).
func NewTable(list []config.App, m *metrics.Metrics) *Table {
	if m == nil {
		m = metrics.New()
	}
	deleted, err := lru.New[string, struct{}](deletedKeys)
	if err != nil {
		panic(err) // only for a size ≤ 0
	}
	t := &Table{metrics: m, deleted: deleted}
	t.Replace(list)
	return t
}

// Get returns the app with a key, or nil.
func (t *Table) Get(key string) *App { return (*t.p.Load())[key] }

// Deleted reports whether key was the key of an app deleted lately (one the
// table held, or one the app store told of with MarkDeleted).
func (t *Table) Deleted(key string) bool { return t.deleted.Contains(key) }

// MarkDeleted records the keys of deleted apps that the table has not
// held (an app store's delete markers).
func (t *Table) MarkDeleted(keys []string) {
	m := *t.p.Load()
	for _, k := range keys {
		if m[k] == nil {
			t.deleted.Add(k, struct{}{})
		}
	}
}

// Config returns the settings of the app with a key.
func (t *Table) Config(key string) (config.App, bool) {
	if a := t.Get(key); a != nil {
		return a.App, true
	}
	return config.App{}, false
}

// Keys returns the keys of every app, sorted.
func (t *Table) Keys() []string {
	m := *t.p.Load()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// All returns the current apps by key; the map must not be changed.
func (t *Table) All() map[string]*App { return *t.p.Load() }

// Replace installs the apps of list (with their defaults filled), keeping
// the run-time state of apps that stay, and returns the apps it replaced.
func (t *Table) Replace(list []config.App) (old map[string]*App) {
	if p := t.p.Load(); p != nil {
		old = *p
	}
	m := make(map[string]*App, len(list))
	for _, a := range list {
		a.Defaults()
		rt := &Runtime{}
		if prev := old[a.Key]; prev != nil {
			rt = prev.Runtime
		} else {
			rt.Metrics = t.metrics.ForApp(a.Key)
		}
		m[a.Key] = &App{App: a, Runtime: rt}
		t.deleted.Remove(a.Key)
	}
	t.p.Store(&m)
	for key := range old {
		if m[key] == nil {
			t.deleted.Add(key, struct{}{})
			t.metrics.ForgetApp(key)
		}
	}
	return old
}
