package webhook

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Stats are a Dispatcher's counters since it was created.
type Stats struct {
	Sent       uint64 // events delivered (a 2xx answer, or stored by a NATS sink)
	Requests   uint64 // HTTP requests made
	Failures   uint64 // attempts that failed (error, timeout or non-2xx)
	Retries    uint64 // events put back for another attempt
	Batches    uint64 // batches formed and stored, each with its delivery id
	Dead       uint64 // batches moved to the dead letters after their retry window
	DeadEvents uint64 // the events of those batches
	Replayed   uint64 // dead batches delivered again by Replay
	Dropped    uint64 // jobs that could not be read and were discarded
	Suppressed uint64 // state events equal to the state last reported, or superseded by a newer one
	Cancelled  uint64 // vacated/removed/offline events undone within Delay
	// Queued is the reports waiting on this node to be stored as jobs.
	Queued uint64
	// QueueDropped counts reports dropped because that queue was full.
	QueueDropped uint64
}

// counters are the live counterparts of Stats.
type counters struct {
	sent, requests, failures, retries, batches, dead, deadEvents, replayed, dropped, suppressed, cancelled atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{ // the queue's figures are added by Dispatcher.Stats
		Sent:       c.sent.Load(),
		Requests:   c.requests.Load(),
		Failures:   c.failures.Load(),
		Retries:    c.retries.Load(),
		Batches:    c.batches.Load(),
		Dead:       c.dead.Load(),
		DeadEvents: c.deadEvents.Load(),
		Replayed:   c.replayed.Load(),
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
