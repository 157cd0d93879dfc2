package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrConsumerStopped reports that the job consumer ended while ctx was live
// (the NATS connection closed or the consumer was deleted).
var ErrConsumerStopped = errors.New("webhook: job consumer stopped")

// Run stores reported changes as jobs and sends jobs until ctx ends. Jobs
// are sent through one durable pull consumer that every node shares, so
// each job is handled by one node; a consumer that cannot be made or that
// stops (NATS unreachable, the stream re-created) is made again, with a
// growing wait. When ctx ends the jobs this node held but had not sent are
// handed back to the queue at once; requests in flight are finished (each
// bounded by Timeout), and reports not yet stored get one last attempt.
// Run returns nil when ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	stored := make(chan struct{})
	go func() {
		defer close(stored)
		d.store(ctx)
	}()
	defer func() { <-stored }()
	wait := 250 * time.Millisecond
	for {
		err := d.consume(ctx)
		if ctx.Err() != nil {
			return nil
		}
		d.log.Warn("webhook consumer stopped, starting it again", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
			wait = min(2*wait, 10*time.Second)
		}
	}
}

// consume sends jobs through the shared consumer until ctx ends (nil) or
// the consumer stops (an error).
func (d *Dispatcher) consume(ctx context.Context) error {
	cons, err := d.js.CreateOrUpdateConsumer(ctx, StreamName, jetstream.ConsumerConfig{
		Durable:       ConsumerName,
		Description:   "Pushd webhook senders",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       d.ackWait(),
		MaxDeliver:    -1, // RetryFor decides when to give up, not a count
		MaxAckPending: maxAckPending,
	})
	if err != nil {
		return fmt.Errorf("webhook consumer %s: %w", ConsumerName, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(4 * d.opts.BatchMax))
	if err != nil {
		return fmt.Errorf("consume webhook jobs: %w", err)
	}
	msgs := make(chan jetstream.Msg)
	go d.pull(it, msgs)

	s := newSender(d)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			it.Drain()
			for m := range msgs {
				s.giveBack(m)
			}
			s.stop()
			return nil
		case m, ok := <-msgs:
			if !ok {
				s.stop()
				return ErrConsumerStopped
			}
			s.handle(ctx, m)
		case now := <-timer.C:
			s.flushDue(ctx, now)
		}
		if next, ok := s.nextDue(); ok {
			timer.Reset(time.Until(next))
		} else {
			timer.Stop()
		}
	}
}

// pull moves messages from the iterator to out until the iterator closes.
func (d *Dispatcher) pull(it jetstream.MessagesContext, out chan<- jetstream.Msg) {
	defer close(out)
	for {
		m, err := it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return
		}
		if err != nil {
			// Missing heartbeats and the like: the iterator carries on.
			d.log.Warn("webhook consumer", "err", err)
			continue
		}
		out <- m
	}
}

// ackWait gives a job held in a batch and then posted enough time before
// JetStream hands it to another node.
func (d *Dispatcher) ackWait() time.Duration {
	return d.opts.BatchWindow + d.opts.Timeout + 30*time.Second
}

// handle settles one delivered job: drop it, put it back until its delay
// has passed, suppress it, or add it to its batch.
func (s *sender) handle(ctx context.Context, m jetstream.Msg) {
	d := s.d
	meta, err := m.Metadata()
	if err != nil {
		d.log.Warn("webhook job without metadata", "err", err)
		s.giveBack(m)
		return
	}
	var j job
	if err := json.Unmarshal(m.Data(), &j); err != nil {
		d.log.Warn("webhook job unreadable, dropped", "seq", meta.Sequence.Stream, "err", err)
		d.ack(m)
		return
	}
	app, ok := d.opts.Apps(j.App)
	if !ok {
		d.log.Debug("webhook for unknown app dropped", "app", j.App)
		d.ack(m)
		return
	}
	url, out, wanted := route(app, j.Event)
	// An unwanted state event whose opposite is wanted still moves the
	// reported state (without a request), or a filter that keeps only
	// channel_occupied would suppress every occupied after the first.
	if !wanted && !recordsOnly(app, j.Event) {
		d.ack(m) // filtered out or no URL: not wanted
		return
	}
	it := item{msg: m, app: j.App, ev: j.Event, deliveries: meta.NumDelivered,
		by: stamp{T: meta.Timestamp.UnixNano(), Q: meta.Sequence.Stream}}
	if j.Event.delayed() {
		if wait := time.Until(meta.Timestamp.Add(d.opts.Delay)); wait > 0 {
			d.nakWithDelay(m, wait)
			return
		}
	}
	if _, stateful := j.Event.reportedState(); stateful {
		v, err := d.decide(ctx, j.App, j.Event, it.by)
		switch {
		case err != nil && ctx.Err() != nil:
			s.giveBack(m)
			return
		case err != nil:
			d.log.Warn("webhook state", "app", j.App, "channel", j.Event.Channel, "err", err)
			d.retryOrDrop(ctx, it, err)
			return
		case v == suppress:
			d.stats.suppressed.Add(1)
			d.ack(m)
			return
		case v == cancelled:
			d.stats.cancelled.Add(1)
			d.ack(m)
			return
		case v == wait:
			d.nakWithDelay(m, stateWait)
			return
		}
	}
	if !wanted {
		if _, stateful := j.Event.reportedState(); stateful {
			if err := d.markDone(ctx, j.App, j.Event, it.by); err != nil {
				d.log.Warn("webhook state", "app", j.App, "channel", j.Event.Channel, "err", err)
			}
		}
		d.ack(m)
		return
	}
	raw, err := json.Marshal(out)
	if err != nil {
		d.log.Warn("webhook event unencodable, dropped", "app", j.App, "err", err)
		d.ack(m)
		return
	}
	it.raw = raw
	s.add(ctx, app, url, it)
}

// ack removes a job from the queue.
func (d *Dispatcher) ack(m jetstream.Msg) {
	if err := m.Ack(); err != nil {
		d.log.Warn("webhook job ack", "err", err)
	}
}

// nakWithDelay asks for the job again after wait.
func (d *Dispatcher) nakWithDelay(m jetstream.Msg, wait time.Duration) {
	if err := m.NakWithDelay(wait); err != nil {
		d.log.Warn("webhook job nak", "err", err)
	}
}

// stateWait is how long an event waits while an older one for the same
// channel or member is still being delivered.
const stateWait = 500 * time.Millisecond

// retryOrDrop puts a job back with exponential back-off, or drops it once
// RetryFor has passed since it was enqueued.
func (d *Dispatcher) retryOrDrop(ctx context.Context, it item, cause error) {
	age := time.Since(time.Unix(0, it.by.T))
	if age >= d.opts.RetryFor {
		d.stats.dropped.Add(1)
		d.log.Warn("webhook dropped after retries",
			"app", it.app, "event", it.ev.Name, "channel", it.ev.Channel,
			"age", age.Round(time.Millisecond), "err", cause)
		if _, stateful := it.ev.reportedState(); stateful {
			if err := d.release(context.WithoutCancel(ctx), it.app, it.ev, it.by); err != nil {
				d.log.Warn("webhook state release", "err", err)
			}
		}
		d.ack(it.msg)
		return
	}
	d.stats.retries.Add(1)
	d.nakWithDelay(it.msg, min(backoff(it.attempt(), d.opts.RetryBase, d.opts.RetryMax), d.opts.RetryFor-age))
}
