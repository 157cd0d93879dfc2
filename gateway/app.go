package gateway

import (
	"sync/atomic"

	"github.com/pushd/pushd/config"
)

// app is one configured application at run time.
type app struct {
	config.App
	conns atomic.Int64 // open connections on this node
}

// apps finds apps by key; it is built once and read without locks.
type apps map[string]*app

func newApps(list []config.App) apps {
	m := make(apps, len(list))
	for _, a := range list {
		a.Limits.Defaults()
		m[a.Key] = &app{App: a}
	}
	return m
}
