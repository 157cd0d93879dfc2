package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// job is what the work queue stores: one event of one app.
type job struct {
	App   string `json:"app"`
	Event Event  `json:"event"`
}

// ErrBadEvent reports an event without a name or a channel (a user for
// user_online and user_offline).
var ErrBadEvent = errors.New("webhook: event needs a name and a channel (user events: a user id)")

// Enqueue stores a job for ev. A non-empty id de-duplicates: several nodes
// that enqueue the same change with the same id (within 5 minutes) store it
// once. Enqueue returns after JetStream has stored the job.
func (d *Dispatcher) Enqueue(ctx context.Context, app string, ev Event, id string) error {
	if !ev.complete() {
		return ErrBadEvent
	}
	data, err := json.Marshal(job{App: app, Event: ev})
	if err != nil {
		return fmt.Errorf("encode webhook job: %w", err)
	}
	var opts []jetstream.PublishOpt
	if id != "" {
		// Ids are unique per app only; the stream is shared.
		opts = append(opts, jetstream.WithMsgID(token(app)+"."+id))
	}
	if _, err := d.js.Publish(ctx, subjectPrefix+token(app), data, opts...); err != nil {
		return fmt.Errorf("enqueue webhook %s on %s: %w", ev.Name, ev.Channel, err)
	}
	return nil
}

// batchJob is a batch formed for one endpoint. It is stored on the work
// queue (subject pushd.webhooks.{app}.batch) before its first attempt, so
// that every attempt, on whichever node, sends the same events with the
// same sequences under the same delivery id.
type batchJob struct {
	App      string `json:"app"`
	Endpoint string `json:"endpoint"`
	// Delivery is the batch's X-Pushd-Delivery: random, given once.
	Delivery string `json:"delivery"`
	// First is the sequence of Events[0]; the others follow one by one.
	First uint64 `json:"first"`
	// Since is when the oldest event was stored (unix ns): retries run
	// for the app's retry window from then.
	Since int64 `json:"since"`
	// Events are the event objects as sent, seq included.
	Events []json.RawMessage `json:"events"`
	// States are the state events of the batch, to mark reported or, if
	// the batch dies, to forget.
	States []stateRef `json:"states,omitempty"`
}

// stateRef names a state event and the job that committed it.
type stateRef struct {
	Event Event `json:"ev"`
	By    stamp `json:"by"`
}

// last is the sequence of the batch's last event.
func (b *batchJob) last() uint64 { return b.First + uint64(len(b.Events)) - 1 }
