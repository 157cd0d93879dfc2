package gateway

import (
	"sync"
	"sync/atomic"

	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/internal/ratelimit"
	"github.com/pushd/pushd/metrics"
)

// app is one configured application: its settings (replaced as a whole
// when the configuration is reloaded) and its run-time state (kept).
type app struct {
	config.App
	rt *appRuntime
}

// appRuntime is what an app keeps across configuration reloads.
type appRuntime struct {
	conns  atomic.Int64 // open connections on this node
	connMu sync.Mutex   // orders conns changes with their presence count
	m      *metrics.App
	api    ratelimit.Locked // HTTP API requests, charged cluster-wide
	// apiUnreported counts the requests this node let through since it
	// last told the other gateways (apiquota.go).
	apiUnreported atomic.Int64
}

// apps finds apps by key; a reload swaps the whole map.
type apps map[string]*app

// newApps builds the app table, keeping the run-time state of apps that
// were in old.
func newApps(list []config.App, old apps, m *metrics.Metrics) apps {
	out := make(apps, len(list))
	for _, a := range list {
		a.Defaults()
		rt := &appRuntime{}
		if prev := old[a.Key]; prev != nil {
			rt = prev.rt
		} else {
			rt.m = m.ForApp(a.Key)
		}
		out[a.Key] = &app{App: a, rt: rt}
	}
	return out
}
