package webhook

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Stats are a Dispatcher's counters since it was created.
type Stats struct {
	Sent       uint64 // events delivered with a 2xx answer
	Requests   uint64 // HTTP requests made
	Failures   uint64 // requests that failed (error, timeout or non-2xx)
	Retries    uint64 // events put back for another attempt
	Dropped    uint64 // events given up after RetryFor
	Suppressed uint64 // state events equal to the state last reported, or superseded by a newer one
	Cancelled  uint64 // vacated/removed events undone within Delay
	// Queued is the reports waiting on this node to be stored as jobs.
	Queued uint64
	// QueueDropped counts reports dropped because that queue was full.
	QueueDropped uint64
}

// counters are the live counterparts of Stats.
type counters struct {
	sent, requests, failures, retries, dropped, suppressed, cancelled atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{ // the queue's figures are added by Dispatcher.Stats
		Sent:       c.sent.Load(),
		Requests:   c.requests.Load(),
		Failures:   c.failures.Load(),
		Retries:    c.retries.Load(),
		Dropped:    c.dropped.Load(),
		Suppressed: c.suppressed.Load(),
		Cancelled:  c.cancelled.Load(),
	}
}

// Pending returns the number of jobs waiting in the queue (all nodes).
func (d *Dispatcher) Pending(ctx context.Context) (uint64, error) {
	info, err := d.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("webhook queue: %w", err)
	}
	return info.State.Msgs, nil
}
