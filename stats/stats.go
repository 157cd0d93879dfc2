// Package stats keeps the cluster's figures of the last minutes for the
// console's graphs: connections, subscriptions, events in and out per app,
// API requests and errors, the webhook queue and webhook failures.
//
// Each node samples what its metrics already count, once a second on the
// second, and sends the sample to every node as one small core NATS message
// (bus.ControlStats, a few hundred bytes; at most MaxApps apps by name).
// Each node adds the samples of all nodes up second by second and keeps the
// last Keep seconds (History). Nothing is counted on a socket's path for
// it: a sample reads the Prometheus series and the webhook dispatcher's
// counters, and asks JetStream once for the webhook queue's depth. The
// nodes' clocks are assumed to agree within a second (NTP): a sample is
// counted in the second its sender names.
package stats

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/metrics"
	"github.com/pushd/pushd/webhook"
)

// Bus sends and receives the samples; *bus.Bus is the implementation.
type Bus interface {
	Notify(app, kind string, data []byte) error
	SubscribeControl(kind string, f func(app string, data []byte)) error
}

// Dispatcher is the webhook dispatcher as stats read it;
// *webhook.Dispatcher is the implementation.
type Dispatcher interface {
	Stats() webhook.Stats
	Pending(ctx context.Context) (uint64, error)
}

// Options are what a node's stats read and where they go.
type Options struct {
	// Node is the node's id, Name its readable name.
	Node, Name string
	Apps       *apps.Table
	Metrics    *metrics.Metrics
	// Webhooks may be nil: the webhook figures stay zero.
	Webhooks Dispatcher
	Bus      Bus
	Logger   *slog.Logger
}

// Stats samples this node and keeps the figures of every node.
type Stats struct {
	opts    Options
	history *History
	s       sampler
}

// New builds a node's stats; Run starts them.
func New(o Options) *Stats {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Stats{opts: o, history: NewHistory(), s: sampler{opts: &o}}
}

// Series returns the graphs' data for an app ("": all apps), with the
// server's figures when server is set.
func (s *Stats) Series(app string, server bool) Series {
	return s.history.Series(app, server, time.Now())
}

// Run receives the other nodes' samples and sends this node's, once a
// second on the second, until ctx ends.
func (s *Stats) Run(ctx context.Context) error {
	if err := s.opts.Bus.SubscribeControl(bus.ControlStats, s.received); err != nil {
		return err
	}
	var last int64
	for {
		next := time.Now().Truncate(time.Second).Add(time.Second)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Until(next)):
		}
		t := time.Now().Unix()
		if t <= last {
			continue // woken early: that second is sampled
		}
		last = t
		smp, ok := s.s.sample(ctx, t)
		if !ok {
			continue
		}
		s.history.Add(smp) // this node's own, even while NATS is away
		b, err := json.Marshal(smp)
		if err == nil {
			err = s.opts.Bus.Notify("", bus.ControlStats, b)
		}
		if err != nil {
			s.opts.Logger.Debug("stats sample not sent", slog.Any("err", err))
		}
	}
}

// received counts another node's sample.
func (s *Stats) received(_ string, data []byte) {
	var smp Sample
	if json.Unmarshal(data, &smp) != nil || smp.Node == "" || smp.Node == s.opts.Node {
		return
	}
	s.history.Add(smp)
}
