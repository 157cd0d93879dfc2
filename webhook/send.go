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

	"github.com/pushd/pushd/config"
)

// ErrRejected reports a receiver that answered outside 2xx.
var ErrRejected = errors.New("webhook: receiver answered outside 2xx")

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

// deliver posts a batch; on a 2xx every job is acked, otherwise each is
// retried or dropped. The request outlives ctx (bounded by Timeout) so that
// a shutdown does not turn a delivered batch into a duplicate.
func (d *Dispatcher) deliver(ctx context.Context, b *batch) {
	events := make([]json.RawMessage, len(b.items))
	for i, it := range b.items {
		events[i] = it.raw
	}
	raw, err := json.Marshal(body{TimeMS: timeMS(b.app, time.Now()), Events: events})
	if err == nil {
		err = d.post(context.WithoutCancel(ctx), b.app, b.url, raw)
	}
	if err == nil {
		d.stats.sent.Add(uint64(len(b.items)))
		for _, it := range b.items {
			if _, stateful := it.ev.reportedState(); stateful {
				if err := d.markDone(context.WithoutCancel(ctx), it.app, it.ev, it.by); err != nil {
					d.log.Warn("webhook state", "app", it.app, "channel", it.ev.Channel, "err", err)
				}
			}
			d.ack(it.msg)
		}
		return
	}
	d.stats.failures.Add(1)
	d.log.Info("webhook request failed", "app", b.app.Key, "url", redact(b.url), "events", len(b.items), "err", err)
	for _, it := range b.items {
		d.retryOrDrop(ctx, it, err)
	}
}

// post makes one signed request.
func (d *Dispatcher) post(ctx context.Context, app config.App, target string, raw []byte) error {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("webhook request to %s: %w", redact(target), err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Pusher-Key", app.Key)
	req.Header.Set("X-Pusher-Signature", Sign(app.Secret, raw))
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
