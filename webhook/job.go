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

// ErrBadEvent reports an event without a name or a channel.
var ErrBadEvent = errors.New("webhook: event needs a name and a channel")

// Enqueue stores a job for ev. A non-empty id de-duplicates: several nodes
// that enqueue the same change with the same id (within 5 minutes) store it
// once. Enqueue returns after JetStream has stored the job.
func (d *Dispatcher) Enqueue(ctx context.Context, app string, ev Event, id string) error {
	if ev.Name == "" || ev.Channel == "" {
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
