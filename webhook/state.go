package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/protocol"
)

// states is the state last reported per channel, member and user (the KV
// bucket StateBucket): what makes a repeated or superseded state event a
// no-op, what a delayed offline is checked against, and what a backend's
// snapshot reads. Every node's dispatcher reads and writes it with
// compare-and-set, so two nodes or a retry never report one transition
// twice.
type states struct {
	kv    jetstream.KeyValue
	state State // live occupancy and presence (nil: a delayed event always goes)
	log   *slog.Logger
}

// stamp orders jobs: the time JetStream stored them, then their sequence.
// The time comes first so that a re-created stream (sequences restart) does
// not make new jobs look older than recorded ones.
type stamp struct {
	T int64  `json:"t"` // unix ns
	Q uint64 `json:"q"`
}

func (s stamp) before(o stamp) bool {
	return s.T < o.T || s.T == o.T && s.Q < o.Q
}

// reported is a state-bucket value: the state last committed for reporting
// and the job that committed it.
type reported struct {
	State string `json:"s"`
	By    stamp  `json:"by"`
	// Done: every endpoint has it (or it needed no request). Until then a
	// newer event for the key waits, so it cannot overtake a retried one.
	Done bool `json:"d,omitempty"`
	// Owe names the endpoints that have not had it yet.
	Owe []string `json:"o,omitempty"`
}

// verdict is what to do with a state event.
type verdict int

const (
	send      verdict = iota // committed (now or on an earlier attempt): send it
	suppress                 // equals the last reported state, or a newer job decided
	cancelled                // a delayed event whose announcement no longer holds
	wait                     // an older event for the key is still being delivered
)

// maxCAS bounds the compare-and-set rounds against other nodes.
const maxCAS = 8

// decide settles a state event against the last reported state and, when it
// is to be sent, records it as reported before the request goes out, owed
// to the endpoints named in owe (none: done at once). The record names the
// job, so a retry of the same job is recognised and sent again, and a job
// older than the recorded one is stale. Recording before sending (rather
// than after a 2xx) is what keeps two nodes, or a retry and a newer job,
// from reporting the same transition twice.
func (r *states) decide(ctx context.Context, app string, ev Event, by stamp, owe []string) (verdict, error) {
	state, _ := ev.reportedState()
	key := stateKey(app, ev)
	if err := bus.CheckKey(StateBucket, key); err != nil {
		return 0, fmt.Errorf("reported state: %w", err)
	}
	for range maxCAS {
		var cur reported
		var rev uint64
		e, err := r.kv.Get(ctx, key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return 0, fmt.Errorf("read reported state %s: %w", key, err)
		default:
			rev = e.Revision()
			if err := json.Unmarshal(e.Value(), &cur); err != nil {
				cur = reported{} // unreadable: as if nothing was reported
			}
		}
		switch {
		case cur.By == by:
			return send, nil
		case by.before(cur.By):
			return suppress, nil
		case rev != 0 && !cur.Done:
			return wait, nil
		case ev.delayed() && !r.stillHolds(app, ev):
			return cancelled, nil
		case cur.State == state:
			return suppress, nil
		}
		val, err := json.Marshal(reported{State: state, By: by, Owe: owe, Done: len(owe) == 0})
		if err != nil {
			return 0, fmt.Errorf("encode reported state: %w", err)
		}
		if rev == 0 {
			_, err = r.kv.Create(ctx, key, val)
		} else {
			_, err = r.kv.Update(ctx, key, val, rev)
		}
		if err == nil {
			return send, nil
		}
		// Another node wrote in between (or the write failed): look again.
		r.log.Debug("webhook state conflict", "key", key, "err", err)
	}
	return 0, fmt.Errorf("record reported state %s: too many conflicts", key)
}

// stillHolds asks State whether a delayed event's announcement is still true.
func (r *states) stillHolds(app string, ev Event) bool {
	if r.state == nil {
		return true
	}
	switch ev.Name {
	case MemberRemoved:
		return !r.state.Present(app, ev.Channel, ev.UserID)
	case UserOffline:
		return !r.state.Present(app, protocol.OnlineChannel, ev.UserID)
	}
	return !r.state.Occupied(app, ev.Channel)
}

// markDone records that the job by, which committed the key's state, has
// reached endpoint; once every endpoint has it, newer events for the key
// may go.
func (r *states) markDone(ctx context.Context, app string, ev Event, by stamp, endpoint string) error {
	key := stateKey(app, ev)
	for range maxCAS {
		cur, rev, err := r.committedBy(ctx, key, by)
		if err != nil || rev == 0 || cur.Done {
			return err
		}
		cur.Owe = slices.DeleteFunc(cur.Owe, func(n string) bool { return n == endpoint })
		cur.Done = len(cur.Owe) == 0
		val, _ := json.Marshal(cur)
		if _, err := r.kv.Update(ctx, key, val, rev); err == nil {
			return nil
		}
	}
	return fmt.Errorf("mark reported state %s: too many conflicts", key)
}

// release forgets a recorded state that by committed but that never reached
// the receiver, so the next event for the key is not suppressed against it.
func (r *states) release(ctx context.Context, app string, ev Event, by stamp) error {
	key := stateKey(app, ev)
	_, rev, err := r.committedBy(ctx, key, by)
	if err != nil || rev == 0 {
		return err
	}
	if err := r.kv.Delete(ctx, key, jetstream.LastRevision(rev)); err != nil {
		return fmt.Errorf("forget reported state %s: %w", key, err)
	}
	return nil
}

// committedBy reads the state of key when the job by committed it, with its
// revision; rev is 0 when the key is gone, unreadable or another job's.
func (r *states) committedBy(ctx context.Context, key string, by stamp) (cur reported, rev uint64, err error) {
	e, err := r.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return cur, 0, nil
	}
	if err != nil {
		return cur, 0, fmt.Errorf("read reported state %s: %w", key, err)
	}
	if json.Unmarshal(e.Value(), &cur) != nil || cur.By != by {
		return cur, 0, nil
	}
	return cur, e.Revision(), nil
}
