package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// createFirst wraps JetStream so that the streams and buckets every gateway
// declares at start are safe to declare from several gateways at once on a
// NATS cluster. nats-server (2.15) leaves a stream update unanswered while
// the stream is still being created by another client, so with
// CreateOrUpdate (update, then create when missing) gateways starting
// together all time out after 5 s. Creating first avoids that: a create
// with the settings the stream already has is answered with the stream, and
// only different settings lead to an update. A timeout is retried.
type createFirst struct{ jetstream.JetStream }

// CreateOrUpdateStream creates the stream, or updates it in place when it
// exists with other settings. cfg.FirstSeq applies to a new stream only: an
// update keeps the first sequence the stream was created with (a changed
// one would have the server purge the events below it at its next start).
func (j createFirst) CreateOrUpdateStream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	return retryTimeout(ctx, func() (jetstream.Stream, error) {
		st, err := j.JetStream.CreateStream(ctx, cfg)
		if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return st, err
		}
		first, err := j.firstSeq(ctx, cfg.Name)
		if err != nil {
			return nil, err
		}
		upd := cfg
		upd.FirstSeq = first
		return j.JetStream.UpdateStream(ctx, upd)
	})
}

// firstSeq returns the first sequence an existing stream was configured
// with. A stream another gateway is creating right now is not found for a
// moment: it is asked again, for up to 5 s.
func (j createFirst) firstSeq(ctx context.Context, name string) (uint64, error) {
	for try := 0; ; try++ {
		st, err := j.JetStream.Stream(ctx, name)
		if err == nil {
			return st.CachedInfo().Config.FirstSeq, nil
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) || try == 50 {
			return 0, fmt.Errorf("read settings of stream %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// CreateOrUpdateKeyValue creates the bucket, or updates it in place when it
// exists with other settings.
func (j createFirst) CreateOrUpdateKeyValue(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	return retryTimeout(ctx, func() (jetstream.KeyValue, error) {
		kv, err := j.JetStream.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) {
			return j.JetStream.UpdateKeyValue(ctx, cfg)
		}
		return kv, err
	})
}

// retryTimeout runs f up to 3 times while it times out and ctx is live.
func retryTimeout[T any](ctx context.Context, f func() (T, error)) (T, error) {
	var v T
	var err error
	for range 3 {
		v, err = f()
		if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			break
		}
	}
	return v, err
}
