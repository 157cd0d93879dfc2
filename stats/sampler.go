package stats

import (
	"context"
	"time"

	"github.com/pushd/pushd/metrics"
)

// sampler reads a node's counters and turns them into the counts of the
// last second. It runs on one goroutine.
type sampler struct {
	opts  *Options
	prev  map[string]metrics.Figures // per app, at the last sample
	api   [2]float64
	hooks [2]uint64 // webhook events sent, attempts failed
}

// queueTimeout bounds the read of the webhook queue's depth.
const queueTimeout = 500 * time.Millisecond

// sample reads the figures at second t; the first call only takes the
// counters' starting point (ok false).
func (s *sampler) sample(ctx context.Context, t int64) (smp Sample, ok bool) {
	first := s.prev == nil
	smp = Sample{Node: s.opts.Node, Name: s.opts.Name, T: t, Apps: map[string]Figures{}, Webhooks: Webhooks{Queue: -1}}
	table := s.opts.Apps.All()
	cur := make(map[string]metrics.Figures, len(table))
	for key, a := range table {
		f := a.Metrics.Figures()
		cur[key] = f
		p := s.prev[key] // zero for an app new since: its series start at zero
		fig := Figures{Connections: f.Connections, Subscriptions: f.Subscriptions,
			In: max(f.Received-p.Received, 0), Out: max(f.Delivered-p.Delivered, 0)}
		smp.All.add(fig)
		if fig != (Figures{}) {
			smp.Apps[key] = fig
		}
	}
	s.prev = cur
	smp.Apps = keepBusiest(smp.Apps, MaxApps)
	if s.opts.Metrics != nil {
		total, failed := s.opts.Metrics.APIRequests()
		smp.API, smp.APIFailed = max(total-s.api[0], 0), max(failed-s.api[1], 0)
		s.api = [2]float64{total, failed}
	}
	if w := s.opts.Webhooks; w != nil {
		st := w.Stats()
		smp.Webhooks.Sent, smp.Webhooks.Failed = float64(st.Sent-min(st.Sent, s.hooks[0])), float64(st.Failures-min(st.Failures, s.hooks[1]))
		s.hooks = [2]uint64{st.Sent, st.Failures}
		qctx, cancel := context.WithTimeout(ctx, queueTimeout)
		if n, err := w.Pending(qctx); err == nil {
			smp.Webhooks.Queue = float64(n)
		}
		cancel()
	}
	return smp, !first
}
