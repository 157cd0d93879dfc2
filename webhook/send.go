package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushd/pushd/config"
)

// ErrRejected reports a receiver that answered outside 2xx.
var ErrRejected = errors.New("webhook: receiver answered outside 2xx")

// Request headers Pushd adds to every webhook.
const (
	// HeaderDelivery is the batch's delivery id, the same on every attempt
	// and on a replay: a receiver that has seen it already has the batch.
	HeaderDelivery = "X-Pushd-Delivery"
	// HeaderEndpoint names the endpoint; each has its own sequence.
	HeaderEndpoint = "X-Pushd-Endpoint"
)

// body is a webhook request body.
type body struct {
	TimeMS json.Number       `json:"time_ms"`
	Events []json.RawMessage `json:"events"`
}

// timeMS is a body's time_ms: Pusher's unix milliseconds, or for an app in
// webman mode what webman/push's server sends under that name, unix
// seconds as a float (PHP's microtime(true)).
func timeMS(app config.App, now time.Time) json.Number {
	if app.Webman() {
		return json.Number(strconv.FormatFloat(float64(now.UnixMicro())/1e6, 'f', 6, 64))
	}
	return json.Number(strconv.FormatInt(now.UnixMilli(), 10))
}

// handleBatch makes one attempt at a stored batch in the background: on
// success its state events are marked reported and the job acked,
// otherwise it is retried with back-off or, past the app's retry window,
// moved to the dead letters.
func (s *sender) handleBatch(ctx context.Context, m jetstream.Msg, meta *jetstream.MsgMetadata) {
	d := s.d
	var bj batchJob
	if err := json.Unmarshal(m.Data(), &bj); err != nil || len(bj.Events) == 0 {
		d.stats.dropped.Add(1)
		d.log.Error("webhook batch unreadable, dropped", "seq", meta.Sequence.Stream, "err", err)
		d.ack(m)
		return
	}
	s.spawn(ctx, s.sending, func() { d.attempt(ctx, m, meta, &bj) }, func() { s.giveBack(m) })
}

// attempt sends a batch once and settles its job. The attempt outlives ctx
// (bounded by Timeout) so that a shutdown does not turn a delivered batch
// into a redelivery.
func (d *Dispatcher) attempt(ctx context.Context, m jetstream.Msg, meta *jetstream.MsgMetadata, bj *batchJob) {
	ctx = context.WithoutCancel(ctx)
	app, ok := d.opts.Apps(bj.App)
	if !ok {
		d.bury(ctx, m, meta, &config.App{Key: bj.App}, bj, fmt.Errorf("app %q is no longer configured", bj.App))
		return
	}
	ep, ok := endpointNamed(&app, bj.Endpoint)
	if !ok {
		d.bury(ctx, m, meta, &app, bj, fmt.Errorf("endpoint %q is no longer configured", bj.Endpoint))
		return
	}
	t := d.timing(&app)
	deadline := time.Unix(0, bj.Since).Add(t.retryFor)
	err := d.send(ctx, &app, ep, bj, deadline)
	if d.opts.Attempted != nil && !errors.Is(err, errNotYet) {
		at := Attempt{Endpoint: bj.Endpoint, Delivery: bj.Delivery, Events: bj.Events}
		if err != nil {
			at.Error = err.Error()
		}
		d.opts.Attempted(bj.App, at)
	}
	switch {
	case err == nil:
		d.stats.sent.Add(uint64(len(bj.Events)))
		for _, st := range bj.States {
			if err := d.states.markDone(ctx, bj.App, st.Event, st.By, bj.Endpoint); err != nil {
				d.log.Warn("webhook state", "app", bj.App, "channel", st.Event.Channel, "err", err)
			}
		}
		d.ack(m)
	case errors.Is(err, errNotYet):
		d.nakWithDelay(m, stateWait)
	default:
		d.stats.failures.Add(1)
		d.log.Info("webhook attempt failed", "batch", bj.String(), "attempt", meta.NumDelivered, "err", err)
		if !time.Now().Before(deadline) {
			d.bury(ctx, m, meta, &app, bj, err)
			return
		}
		d.stats.retries.Add(uint64(len(bj.Events)))
		d.nakWithDelay(m, min(backoff(int(meta.NumDelivered), t.retryBase, t.retryMax), time.Until(deadline)))
	}
}

// send delivers a batch to its endpoint: one signed POST, or its events
// published in order on a NATS sink. A sink batch waits (errNotYet) for
// the one before it until deadline.
func (d *Dispatcher) send(ctx context.Context, app *config.App, ep endpoint, bj *batchJob, deadline time.Time) error {
	if ep.subject != "" {
		return d.publishSink(ctx, app, ep, bj, deadline)
	}
	raw, err := json.Marshal(body{TimeMS: timeMS(*app, time.Now()), Events: bj.Events})
	if err != nil {
		return fmt.Errorf("encode webhook body: %w", err)
	}
	return d.post(ctx, app, ep, bj.Delivery, raw)
}

// post makes one signed request.
func (d *Dispatcher) post(ctx context.Context, app *config.App, ep endpoint, delivery string, raw []byte) error {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.url, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("webhook request to %s: %w", redact(ep.url), err)
	}
	for k, v := range ep.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Pusher-Key", app.Key)
	req.Header.Set("X-Pusher-Signature", Sign(app.Secret, raw))
	req.Header.Set(HeaderDelivery, delivery)
	req.Header.Set(HeaderEndpoint, ep.name)
	d.stats.requests.Add(1)
	resp, err := d.opts.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = redact(ue.URL)
		}
		return fmt.Errorf("post webhook: %w", err)
	}
	defer resp.Body.Close()
	// Drain a little so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%w: %d", ErrRejected, resp.StatusCode)
	}
	return nil
}

// redact drops the query and credentials of a URL for logging; receivers
// often carry tokens there.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable url)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
