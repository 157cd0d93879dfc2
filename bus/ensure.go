package bus

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// createFirst wraps JetStream so that the streams and buckets every gateway
// declares at start (and again on a reload) are safe to declare from several
// gateways at once on a NATS cluster, and on a small disk.
//
// An existing stream is looked up first and updated only when its settings
// differ: creating it again costs its storage reservation a second time in
// nats-server's accounting, so a restart or reload on a disk with just room
// for the reservations failed with "insufficient storage". A missing one is
// created; when another gateway creates it meanwhile, the create is
// answered with the stream (same settings) or "already in use", and only
// different settings lead to an update. (nats-server 2.15 leaves an update
// unanswered while another client is still creating the stream, so gateways
// starting together must not update a stream they all declare alike.) A
// timeout is retried.
type createFirst struct{ jetstream.JetStream }

// CreateOrUpdateStream creates the stream, or updates it in place when it
// exists with other settings. cfg.FirstSeq applies to a new stream only: an
// update keeps the first sequence the stream was created with (a changed
// one would have the server purge the events below it at its next start).
func (j createFirst) CreateOrUpdateStream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	return retryTimeout(ctx, func() (jetstream.Stream, error) {
		st, err := j.JetStream.Stream(ctx, cfg.Name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			st, err = j.JetStream.CreateStream(ctx, cfg)
			if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				return st, err
			}
			st, err = j.existing(ctx, cfg.Name)
		}
		if err != nil {
			return nil, err
		}
		// The first sequence is the stream's for life (a changed one would
		// have the server purge the events below it at its next start).
		cfg.FirstSeq = st.CachedInfo().Config.FirstSeq
		if sameStreamConfig(cfg, st.CachedInfo().Config) {
			return st, nil
		}
		return j.JetStream.UpdateStream(ctx, cfg)
	})
}

// existing returns a stream that exists: one another gateway is creating
// right now is not found for a moment, so it is asked again, for up to 5 s.
func (j createFirst) existing(ctx context.Context, name string) (jetstream.Stream, error) {
	for try := 0; ; try++ {
		st, err := j.JetStream.Stream(ctx, name)
		if err == nil {
			return st, nil
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) || try == 50 {
			return nil, fmt.Errorf("read settings of stream %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// CreateOrUpdateKeyValue creates the bucket, or updates it in place when it
// exists with other settings.
func (j createFirst) CreateOrUpdateKeyValue(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	return retryTimeout(ctx, func() (jetstream.KeyValue, error) {
		kv, err := j.JetStream.KeyValue(ctx, cfg.Bucket)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			kv, err = j.JetStream.CreateKeyValue(ctx, cfg)
			if !errors.Is(err, jetstream.ErrBucketExists) {
				return kv, err
			}
			kv, err = j.JetStream.KeyValue(ctx, cfg.Bucket)
		}
		if err != nil {
			return nil, err
		}
		st, err := kv.Status(ctx)
		if err != nil {
			return nil, err
		}
		if bs, ok := st.(*jetstream.KeyValueBucketStatus); ok && sameBucketConfig(cfg, bs.StreamInfo().Config) {
			return kv, nil
		}
		return j.JetStream.UpdateKeyValue(ctx, cfg)
	})
}

// sameStreamConfig reports whether a stream with settings have already is
// what want declares: every field want sets is equal, and the fields it
// leaves zero keep whatever the server chose.
func sameStreamConfig(want, have jetstream.StreamConfig) bool {
	want.FirstSeq = have.FirstSeq // a stream's for life: never a reason to update
	w, h := reflect.ValueOf(&want).Elem(), reflect.ValueOf(have)
	for i := range w.NumField() {
		if w.Field(i).IsZero() {
			w.Field(i).Set(h.Field(i))
		}
	}
	return reflect.DeepEqual(want, have)
}

// sameBucketConfig reports whether a bucket's stream settings are what want
// declares, with nats.go's defaults for what it leaves unset.
func sameBucketConfig(want jetstream.KeyValueConfig, have jetstream.StreamConfig) bool {
	orUnset := func(v, unset int64) int64 {
		if v == 0 {
			return unset
		}
		return v
	}
	compression := jetstream.NoCompression
	if want.Compression {
		compression = jetstream.S2Compression
	}
	return have.Description == want.Description &&
		have.MaxMsgsPerSubject == orUnset(int64(want.History), 1) &&
		have.MaxAge == want.TTL &&
		have.SubjectDeleteMarkerTTL == want.LimitMarkerTTL &&
		have.MaxBytes == orUnset(want.MaxBytes, -1) &&
		int64(have.MaxMsgSize) == orUnset(int64(want.MaxValueSize), -1) &&
		have.Storage == want.Storage &&
		have.Replicas == int(orUnset(int64(want.Replicas), 1)) &&
		have.Compression == compression &&
		reflect.DeepEqual(have.RePublish, want.RePublish)
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
