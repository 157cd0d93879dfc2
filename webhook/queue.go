package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// report is one change waiting to be stored as a job.
type report struct {
	app string
	ev  Event
	id  string
}

// queue hands reports from the callers (socket read loops, the presence
// watcher) to the worker that stores them in JetStream, so no caller ever
// waits for a store. It is bounded: when it is full (JetStream has been
// unreachable for a while) a new report is dropped, counted and logged at
// most once per dropLogEvery.
type queue struct {
	ch      chan report
	dropped atomic.Uint64
	lastLog atomic.Int64 // unix nanos of the last drop logged
}

const (
	// defaultQueueSize holds a mass disconnect's worth of vacated channels.
	defaultQueueSize = 65536
	// storeWindow bounds the jobs published at once, awaiting their acks.
	storeWindow  = 256
	dropLogEvery = 10 * time.Second
)

// push queues r, or drops it when the queue is full and reports whether a
// drop should be logged now (at most once per dropLogEvery).
func (q *queue) push(r report) (dropped, logNow bool) {
	select {
	case q.ch <- r:
		return false, false
	default:
	}
	q.dropped.Add(1)
	now := time.Now().UnixNano()
	last := q.lastLog.Load()
	return true, now-last >= int64(dropLogEvery) && q.lastLog.CompareAndSwap(last, now)
}

// store runs until ctx ends, storing queued reports as jobs, up to
// storeWindow at a time; a batch that fails (JetStream unreachable) is tried
// again, while new reports wait in the queue. When ctx ends, what is queued
// gets one last attempt bounded by flushTimeout.
func (d *Dispatcher) store(ctx context.Context) {
	var batch []report
	retry := 100 * time.Millisecond
	for {
		if len(batch) == 0 {
			select {
			case r := <-d.queue.ch:
				batch = append(batch, r)
			case <-ctx.Done():
				d.flushQueue()
				return
			}
		}
	fill:
		for len(batch) < storeWindow {
			select {
			case r := <-d.queue.ch:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		sctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
		failed, err := d.publishAll(sctx, batch)
		cancel()
		batch = failed
		if err == nil {
			retry = 100 * time.Millisecond
			continue
		}
		if ctx.Err() != nil {
			d.flushBatch(batch)
			d.flushQueue()
			return
		}
		d.log.Warn("webhook jobs not stored, retrying", "jobs", len(failed), "in", retry, "err", err)
		select {
		case <-time.After(retry):
			retry = min(2*retry, 2*time.Second)
		case <-ctx.Done():
			d.flushBatch(batch)
			d.flushQueue()
			return
		}
	}
}

// flushTimeout bounds the last attempt to store what is queued at shutdown.
const flushTimeout = 2 * time.Second

func (d *Dispatcher) flushQueue() {
	var batch []report
	for {
		select {
		case r := <-d.queue.ch:
			batch = append(batch, r)
		default:
			d.flushBatch(batch)
			return
		}
	}
}

func (d *Dispatcher) flushBatch(batch []report) {
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	if failed, err := d.publishAll(ctx, batch); err != nil {
		d.queue.dropped.Add(uint64(len(failed)))
		d.log.Warn("webhook jobs lost at shutdown", "jobs", len(failed), "err", err)
	}
}

// publishAll stores reports as jobs, published asynchronously, up to
// storeWindow awaiting their acks. It returns the reports not stored.
func (d *Dispatcher) publishAll(ctx context.Context, batch []report) (failed []report, err error) {
	type pending struct {
		r report
		f jetstream.PubAckFuture
	}
	inflight := make([]pending, 0, len(batch))
	for _, r := range batch {
		data, e := json.Marshal(job{App: r.app, Event: r.ev})
		if e != nil {
			d.log.Warn("webhook job unencodable, dropped", "app", r.app, "err", e)
			continue
		}
		var opts []jetstream.PublishOpt
		if r.id != "" {
			opts = append(opts, jetstream.WithMsgID(token(r.app)+"."+r.id))
		}
		f, e := d.js.PublishAsync(subjectPrefix+token(r.app), data, opts...)
		if e != nil {
			failed, err = append(failed, r), e
			continue
		}
		inflight = append(inflight, pending{r, f})
	}
	for _, p := range inflight {
		select {
		case <-p.f.Ok():
		case e := <-p.f.Err():
			failed, err = append(failed, p.r), e
		case <-ctx.Done():
			failed, err = append(failed, p.r), ctx.Err()
		}
	}
	if err != nil {
		return failed, fmt.Errorf("store %d of %d webhook jobs: %w", len(failed), len(batch), err)
	}
	return nil, nil
}
