package webhook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushd/pushd/config"
)

// Headers of the messages a NATS sink publishes, one per event.
const (
	SinkHeaderApp      = "Pushd-App"
	SinkHeaderEndpoint = "Pushd-Endpoint"
	SinkHeaderDelivery = "Pushd-Delivery"
	SinkHeaderSeq      = "Pushd-Seq"
)

// errNotYet reports a NATS sink batch whose predecessor is not published
// yet: it waits rather than overtake it.
var errNotYet = errors.New("webhook: the previous batch of this NATS sink is not published yet")

// sinkMaxAge is how long a stream Pushd makes for a sink (nats_stream)
// keeps messages.
const sinkMaxAge = 7 * 24 * time.Hour

// sinkCache remembers the stream holding each sink subject.
type sinkCache struct {
	mu      sync.Mutex
	streams map[string]jetstream.Stream
}

func (c *sinkCache) get(ctx context.Context, js jetstream.JetStream, subject string) (jetstream.Stream, error) {
	c.mu.Lock()
	s, ok := c.streams[subject]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	name, err := js.StreamNameBySubject(ctx, subject)
	if err != nil {
		return nil, fmt.Errorf("no JetStream stream holds the NATS sink subject %q: %w", subject, err)
	}
	s, err = js.Stream(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("NATS sink stream %s: %w", name, err)
	}
	c.mu.Lock()
	if c.streams == nil {
		c.streams = map[string]jetstream.Stream{}
	}
	c.streams[subject] = s
	c.mu.Unlock()
	return s, nil
}

func (c *sinkCache) forget(subject string) {
	c.mu.Lock()
	delete(c.streams, subject)
	c.mu.Unlock()
}

// publishSink publishes a batch's events on its sink subject, one message
// each, in sequence order across batches: the last message on the subject
// must carry the sequence just before the batch's first (or the subject be
// empty and the batch start at 1), and every publish expects the subject's
// last message to be the one it just saw, so two nodes cannot interleave.
// A batch that finds its predecessor missing waits (errNotYet) until
// deadline, then goes anyway (the predecessor died, or the stream lost it).
// A batch found already published (a node died before acking) is done. A
// zero deadline (a replay) publishes without any of this.
func (d *Dispatcher) publishSink(ctx context.Context, app *config.App, ep endpoint, bj *batchJob, deadline time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	from := bj.First
	var expect *uint64
	if !deadline.IsZero() {
		stream, err := d.sinks.get(ctx, d.js, ep.subject)
		if err != nil {
			return err
		}
		var prev, at uint64 // sequence of the subject's last message and its place in the stream
		ours := false
		last, err := stream.GetLastMsgForSubject(ctx, ep.subject)
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
		case err != nil:
			d.sinks.forget(ep.subject)
			return fmt.Errorf("NATS sink %s: read the last message: %w", ep.subject, err)
		default:
			at = last.Sequence
			ours = last.Header.Get(SinkHeaderApp) == app.Key && last.Header.Get(SinkHeaderEndpoint) == ep.name
			if ours {
				prev, _ = strconv.ParseUint(last.Header.Get(SinkHeaderSeq), 10, 64)
			}
		}
		switch {
		case ours && prev >= bj.last():
			return nil // published already
		case ours && prev >= bj.First:
			from = prev + 1 // partly published
		case ours && prev+1 == bj.First, !ours && bj.First == 1:
		case time.Now().Before(deadline):
			return errNotYet
		}
		expect = &at
	}
	for seq := from; seq <= bj.last(); seq++ {
		m := nats.NewMsg(ep.subject)
		for k, v := range ep.headers {
			m.Header.Set(k, v)
		}
		m.Header.Set(SinkHeaderApp, app.Key)
		m.Header.Set(SinkHeaderEndpoint, ep.name)
		m.Header.Set(SinkHeaderDelivery, bj.Delivery)
		m.Header.Set(SinkHeaderSeq, strconv.FormatUint(seq, 10))
		m.Data = bj.Events[seq-bj.First]
		var opts []jetstream.PublishOpt
		if expect != nil {
			opts = append(opts, jetstream.WithExpectLastSequencePerSubject(*expect))
		}
		ack, err := d.js.PublishMsg(ctx, m, opts...)
		var apiErr *jetstream.APIError
		switch {
		case errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant):
			return errNotYet // another node published meanwhile: look again
		case err != nil:
			return fmt.Errorf("NATS sink %s: publish seq %d: %w", ep.subject, seq, err)
		}
		if expect != nil {
			at := ack.Sequence
			expect = &at
		}
	}
	return nil
}

// EnsureSinks creates the streams that apps' NATS sinks name
// (nats_stream), holding their subjects, or adds a subject to such a
// stream that exists without it. Call it at start and after a reload.
func (d *Dispatcher) EnsureSinks(ctx context.Context, apps []config.App) error {
	for _, a := range apps {
		for _, w := range a.Webhooks {
			if w.NATSSubject == "" || w.NATSStream == "" {
				continue
			}
			if err := d.ensureSink(ctx, w.NATSStream, w.NATSSubject); err != nil {
				return fmt.Errorf("app %q: webhooks %s: %w", a.Key, w.Name, err)
			}
			d.sinks.forget(w.NATSSubject)
		}
	}
	return nil
}

func (d *Dispatcher) ensureSink(ctx context.Context, name, subject string) error {
	s, err := d.js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = d.js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        name,
			Description: "Pushd webhook events (NATS sink)",
			Subjects:    []string{subject},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			MaxAge:      sinkMaxAge,
			Replicas:    d.opts.Replicas,
		})
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return d.ensureSink(ctx, name, subject) // another node made it
		}
		if err != nil {
			return fmt.Errorf("create NATS sink stream %s: %w", name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("NATS sink stream %s: %w", name, err)
	}
	cfg := s.CachedInfo().Config
	if slices.Contains(cfg.Subjects, subject) {
		return nil
	}
	cfg.Subjects = append(cfg.Subjects, subject)
	if _, err := d.js.UpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("add %s to NATS sink stream %s: %w", subject, name, err)
	}
	return nil
}
