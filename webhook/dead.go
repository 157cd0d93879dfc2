package webhook

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushd/pushd/config"
)

// DeadLetters keeps the webhook batches that exhausted their retries (the
// stream DeadStreamName): the dispatcher buries them there, and an operator
// lists them (Failed) and sends them again (Replay), through the API's
// dead-letter calls and `pushd webhooks failed|replay`.
type DeadLetters struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	apps   func(appKey string) (config.App, bool)
	// send delivers a batch to an endpoint as the dispatcher does.
	send   func(ctx context.Context, app *config.App, ep endpoint, bj *batchJob, deadline time.Time) error
	stats  *counters
	log    *slog.Logger
	replay sync.Mutex // one replay at a time on this node
}

// Count returns the number of batches in the dead-letter stream (all
// nodes, all apps).
func (dl *DeadLetters) Count(ctx context.Context) (uint64, error) {
	info, err := dl.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("webhook dead letters: %w", err)
	}
	return info.State.Msgs, nil
}

// deadLetter is a dead-letter stream message: the batch as it was stored,
// and why it died.
type deadLetter struct {
	batchJob
	Attempts uint64 `json:"attempts"`
	Error    string `json:"error"`
}

// bury moves a batch that exhausted its retry window (or whose app or
// endpoint is gone) to the dead-letter stream, under its delivery id, and
// acks its job. Its state events are forgotten as reported, so the next
// change of those channels and members is not suppressed against a state
// the receiver never got. If the dead letter cannot be stored the job is
// kept and tried again later: a batch is never dropped.
func (d *Dispatcher) bury(ctx context.Context, m jetstream.Msg, meta *jetstream.MsgMetadata, app *config.App, bj *batchJob, cause error) {
	data, err := json.Marshal(deadLetter{batchJob: *bj, Attempts: meta.NumDelivered, Error: cause.Error()})
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
		_, err = d.js.Publish(sctx, deadPrefix+token(bj.App)+"."+token(bj.Endpoint), data, jetstream.WithMsgID(bj.Delivery))
		cancel()
	}
	if err != nil {
		d.log.Error("webhook dead letter not stored, keeping the batch", "batch", bj.String(), "err", err)
		d.nakWithDelay(m, d.timing(app).retryMax)
		return
	}
	d.stats.dead.Add(1)
	d.stats.deadEvents.Add(uint64(len(bj.Events)))
	d.log.Warn("webhook batch moved to the dead letters",
		"batch", bj.String(), "events", len(bj.Events), "attempts", meta.NumDelivered,
		"age", time.Since(time.Unix(0, bj.Since)).Round(time.Millisecond), "err", cause)
	for _, st := range bj.States {
		if err := d.states.release(ctx, bj.App, st.Event, st.By); err != nil {
			d.log.Warn("webhook state release", "err", err)
		}
	}
	d.ack(m)
}

// DeadLetter describes a webhook batch in the dead-letter stream.
type DeadLetter struct {
	// ID is the batch's place in the dead-letter stream.
	ID       uint64    `json:"id"`
	App      string    `json:"app"`
	Endpoint string    `json:"endpoint"`
	Delivery string    `json:"delivery"`
	FirstSeq uint64    `json:"first_seq"`
	LastSeq  uint64    `json:"last_seq"`
	Events   int       `json:"events"`
	Channels []string  `json:"channels"`
	FailedAt time.Time `json:"failed_at"`
	Attempts uint64    `json:"attempts"`
	Error    string    `json:"error"`
}

// buried is a dead letter read back with its place in the stream.
type buried struct {
	deadLetter
	id uint64
	at time.Time
}

func (b *buried) describe() DeadLetter {
	dl := DeadLetter{ID: b.id, App: b.App, Endpoint: b.Endpoint, Delivery: b.Delivery, FirstSeq: b.First,
		LastSeq: b.last(), Events: len(b.Events), FailedAt: b.at.UTC(), Attempts: b.Attempts, Error: b.Error,
		Channels: []string{}}
	for _, raw := range b.Events {
		var ev struct {
			Channel string `json:"channel"`
		}
		if json.Unmarshal(raw, &ev) == nil && ev.Channel != "" && !slices.Contains(dl.Channels, ev.Channel) {
			dl.Channels = append(dl.Channels, ev.Channel)
		}
	}
	return dl
}

// maxList bounds the dead letters one call reads.
const maxList = 10000

// readWait bounds the wait for one dead letter known to be there.
const readWait = 5 * time.Second

// readDead reads up to limit dead letters of an app that died at or after
// since (zero: all), oldest first, and reports whether more remain.
func (dl *DeadLetters) readDead(ctx context.Context, app string, since time.Time, limit int) ([]buried, bool, error) {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{deadPrefix + token(app) + ".>"}}
	if !since.IsZero() {
		cfg.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		cfg.OptStartTime = &since
	}
	cons, err := dl.js.OrderedConsumer(ctx, DeadStreamName, cfg)
	if err != nil {
		return nil, false, fmt.Errorf("read webhook dead letters: %w", err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("read webhook dead letters: %w", err)
	}
	var out []buried
	for pending := info.NumPending; pending > 0 && len(out) < limit; {
		m, err := cons.Next(jetstream.FetchMaxWait(readWait))
		if err != nil {
			return out, true, fmt.Errorf("read webhook dead letters: %w", err)
		}
		meta, err := m.Metadata()
		if err != nil {
			return out, true, fmt.Errorf("read webhook dead letters: %w", err)
		}
		pending = meta.NumPending
		b := buried{id: meta.Sequence.Stream, at: meta.Timestamp}
		if err := json.Unmarshal(m.Data(), &b.deadLetter); err != nil || len(b.Events) == 0 {
			dl.log.Warn("webhook dead letter unreadable, skipped", "id", b.id, "err", err)
			continue
		}
		out = append(out, b)
		if pending == 0 {
			return out, false, nil
		}
	}
	return out, len(out) >= limit, nil
}

// Failed lists up to limit dead letters of an app (oldest first) that died
// at or after since (zero: all), and whether more remain.
func (dl *DeadLetters) Failed(ctx context.Context, app string, since time.Time, limit int) ([]DeadLetter, bool, error) {
	list, more, err := dl.readDead(ctx, app, since, min(max(limit, 1), maxList))
	out := make([]DeadLetter, len(list))
	for i := range list {
		out[i] = list[i].describe()
	}
	return out, more, err
}

// ReplayResult tells what a Replay did.
type ReplayResult struct {
	// Replayed batches were delivered and left the dead letters.
	Replayed int `json:"replayed"`
	// Failed batches failed again; they stay, and so do the later batches
	// of their endpoint (Kept), which were not tried so as not to overtake.
	Failed int `json:"failed"`
	Kept   int `json:"kept"`
	// More is true when limit stopped the reading: call again.
	More   bool     `json:"more"`
	Errors []string `json:"errors,omitempty"`
}

// ErrReplayRunning reports a replay asked for while this node runs one.
var ErrReplayRunning = errors.New("webhook: a replay is already running on this node")

// Replay sends again, once each, up to limit dead letters of an app that
// died at or after since (zero: all): per endpoint in sequence order, so
// each channel's events go in their order, with the delivery id and
// sequences they had. A delivered batch leaves the dead letters; the first
// failure of an endpoint stops its replay (the rest stays for the next).
// NATS sink batches are published without waiting for order: they are
// older than what the sink has.
func (dl *DeadLetters) Replay(ctx context.Context, appKey string, since time.Time, limit int) (ReplayResult, error) {
	var res ReplayResult
	if !dl.replay.TryLock() {
		return res, ErrReplayRunning
	}
	defer dl.replay.Unlock()
	app, ok := dl.apps(appKey)
	if !ok {
		return res, fmt.Errorf("replay: unknown app %q", appKey)
	}
	list, more, err := dl.readDead(ctx, appKey, since, min(max(limit, 1), maxList))
	if err != nil {
		return res, err
	}
	res.More = more
	slices.SortStableFunc(list, func(a, b buried) int {
		if a.Endpoint != b.Endpoint {
			if a.Endpoint < b.Endpoint {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.First, b.First)
	})
	stopped := map[string]bool{}
	for i := range list {
		b := &list[i]
		if stopped[b.Endpoint] {
			res.Kept++
			continue
		}
		err := ctx.Err()
		if err == nil {
			err = dl.replayOne(ctx, &app, b)
		}
		if err != nil {
			res.Failed++
			res.Errors = append(res.Errors, fmt.Sprintf("%s: %v", b.String(), err))
			stopped[b.Endpoint] = true
			continue
		}
		res.Replayed++
		dl.stats.replayed.Add(1)
		if err := dl.stream.DeleteMsg(context.WithoutCancel(ctx), b.id); err != nil {
			// Sent but kept: a later replay sends it again, under the
			// same delivery id, which the receiver already has.
			dl.log.Warn("webhook dead letter replayed but not removed", "batch", b.String(), "err", err)
		}
	}
	dl.log.Info("webhook dead letters replayed", "app", appKey, "replayed", res.Replayed, "failed", res.Failed, "kept", res.Kept)
	return res, nil
}

// replayOne sends one dead batch to its endpoint as configured now.
func (dl *DeadLetters) replayOne(ctx context.Context, app *config.App, b *buried) error {
	ep, ok := endpointNamed(app, b.Endpoint)
	if !ok {
		return fmt.Errorf("endpoint %q is not configured", b.Endpoint)
	}
	err := dl.send(ctx, app, ep, &b.batchJob, time.Time{})
	if err != nil {
		dl.stats.failures.Add(1)
		return err
	}
	dl.stats.sent.Add(uint64(len(b.Events)))
	return nil
}
