package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushd/pushd/config"
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
// Meanwhile it keeps the reported states that still hold from expiring
// (keep.go). Run returns nil when ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	stored, kept := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stored)
		d.store(ctx)
	}()
	go func() {
		defer close(kept)
		keep(ctx, d)
	}()
	defer func() { <-stored; <-kept }()
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

// pullMax is how many jobs the consumer fetches ahead.
const pullMax = 256

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
	it, err := cons.Messages(jetstream.PullMaxMessages(pullMax))
	if err != nil {
		return fmt.Errorf("consume webhook jobs: %w", err)
	}
	msgs := make(chan jetstream.Msg)
	go d.pull(ctx, it, msgs)

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
func (d *Dispatcher) pull(ctx context.Context, it jetstream.MessagesContext, out chan<- jetstream.Msg) {
	defer close(out)
	for {
		m, err := it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return
		}
		if err != nil {
			// The iterator carries on after any of these.
			d.log.Log(ctx, consumerErrLevel(err), "webhook consumer", "err", err)
			continue
		}
		out <- m
	}
}

// consumerErrLevel is the log level of an error the job iterator reported
// and recovered from. A missed heartbeat is routine: an idle consumer on a
// healthy cluster misses one now and then (the server's heartbeat and the
// expiry of the pull request race), and the iterator asks again by itself;
// a lost server shows as "nats disconnected" and in /readyz. Anything else
// is worth a warning.
func consumerErrLevel(err error) slog.Level {
	if errors.Is(err, jetstream.ErrNoHeartbeat) {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}

// ackWait bounds how long a node holds a job before JetStream hands it to
// another: an event job waits out its batch window (at most
// config.MaxWebhookBatchWindow) and the storing of its batch (Timeout); a
// batch job one attempt (Timeout). It is also how soon the batch of a node
// that died mid-attempt is tried again elsewhere.
func (d *Dispatcher) ackWait() time.Duration {
	return config.MaxWebhookBatchWindow + d.opts.Timeout + 5*time.Second
}

// handle settles one delivered job, an event or a stored batch.
func (s *sender) handle(ctx context.Context, m jetstream.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		s.d.log.Warn("webhook job without metadata", "err", err)
		s.giveBack(m)
		return
	}
	if strings.HasSuffix(m.Subject(), batchSuffix) {
		s.handleBatch(ctx, m, meta)
		return
	}
	s.handleEvent(ctx, m, meta)
}

// handleEvent settles one event job: drop it, put it back until its delay
// has passed, suppress it, or add it to the batch of every endpoint that
// takes it.
func (s *sender) handleEvent(ctx context.Context, m jetstream.Msg, meta *jetstream.MsgMetadata) {
	d := s.d
	var j job
	if err := json.Unmarshal(m.Data(), &j); err != nil {
		d.stats.dropped.Add(1)
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
	var targets []endpoint
	for i := range numEndpoints(&app) {
		if e := endpointAt(&app, i); e.takes(j.Event) {
			targets = append(targets, e)
		}
	}
	// An unwanted state event whose opposite is wanted still moves the
	// reported state (without a request), or a filter that keeps only
	// channel_occupied would suppress every occupied after the first.
	if len(targets) == 0 && !recordsOnly(&app, j.Event) {
		d.ack(m) // filtered out or no endpoint: not wanted
		return
	}
	t := d.timing(&app)
	by := stamp{T: meta.Timestamp.UnixNano(), Q: meta.Sequence.Stream}
	if j.Event.delayed() {
		if wait := time.Until(meta.Timestamp.Add(t.delay)); wait > 0 {
			d.nakWithDelay(m, wait)
			return
		}
	}
	if _, stateful := j.Event.reportedState(); stateful {
		owe := make([]string, len(targets))
		for i, e := range targets {
			owe[i] = e.name
		}
		v, err := d.states.decide(ctx, j.App, j.Event, by, owe)
		switch {
		case err != nil && ctx.Err() != nil:
			s.giveBack(m)
			return
		case err != nil:
			d.log.Warn("webhook state", "app", j.App, "channel", j.Event.Channel, "err", err)
			d.nakWithDelay(m, backoff(int(meta.NumDelivered), t.retryBase, t.retryMax))
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
	if len(targets) == 0 {
		d.ack(m) // recorded only: decide marked it done
		return
	}
	h := &held{msg: m}
	h.left.Store(int32(len(targets)))
	for _, e := range targets {
		raw, err := json.Marshal(e.shape(&app, j.Event))
		if err != nil {
			d.log.Warn("webhook event unencodable", "app", j.App, "err", err)
			h.settle(d, false)
			continue
		}
		s.add(ctx, app, e, item{job: h, ev: j.Event, by: by, raw: raw})
	}
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
// channel or member is still being delivered (and a NATS sink batch while
// the one before it is not published yet).
const stateWait = 500 * time.Millisecond
