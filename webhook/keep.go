package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushd/pushd/config"
)

// The state bucket forgets a key stateTTL after its last write. That bounds
// it by the channels and members that changed within a day, but a channel
// occupied (a member present) for longer would be forgotten while it still
// holds, and the state snapshot (Snapshot) and Reconcile would miss it. So
// every node looks through the bucket every keepEvery and writes the states
// that still hold and are older than keepAge again, unchanged: a state that
// says something is there lives as long as it holds (and nodes run); one
// that says it is gone expires a day after it was reported.
const (
	keepEvery = time.Hour
	keepAge   = stateTTL / 2
)

// keep runs keepStates every keepEvery (the first time after a random part
// of it, so that nodes started together do not scan together) until ctx
// ends.
func keep(ctx context.Context, d *Dispatcher) {
	wait := keepEvery/2 + rand.N(keepEvery/2)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = keepEvery
		n, err := keepStates(ctx, d.kv, d.opts.Apps, keepAge)
		switch {
		case err != nil && ctx.Err() == nil:
			d.log.Warn("webhook state keep", "err", err)
		case n > 0:
			d.log.Debug("webhook states kept", "states", n)
		}
	}
}

// keepStates writes again, unchanged, every reported state older than age
// that says a channel is occupied, a member present or a user online, so
// that its key does not expire while it holds; states of apps no longer
// configured are left to expire. Each write is a compare-and-set on the
// revision read, so of several nodes one writes and a state that changed
// meanwhile is left alone. It returns how many it wrote.
func keepStates(ctx context.Context, kv jetstream.KeyValue, apps func(string) (config.App, bool), age time.Duration) (int, error) {
	type old struct {
		key string
		val []byte
		rev uint64
	}
	var due []old
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return 0, fmt.Errorf("read reported states: %w", err)
	}
	now := time.Now()
	for reading := true; reading; {
		select {
		case <-ctx.Done():
			_ = w.Stop()
			return 0, ctx.Err()
		case e, ok := <-w.Updates():
			if !ok || e == nil {
				reading = false
				break
			}
			var r reported
			if now.Sub(e.Created()) < age || json.Unmarshal(e.Value(), &r) != nil || !holds(r.State) {
				continue
			}
			if n, ok := parseStateKey(e.Key()); !ok {
				continue
			} else if _, configured := apps(n.app); !configured {
				continue
			}
			due = append(due, old{e.Key(), e.Value(), e.Revision()})
		}
	}
	_ = w.Stop()
	n := 0
	for _, o := range due {
		if _, err := kv.Update(ctx, o.key, o.val, o.rev); err == nil {
			n++
		} else if ctx.Err() != nil {
			return n, ctx.Err()
		}
		// A conflict: another node kept it, or it changed. Either is fine.
	}
	return n, nil
}
