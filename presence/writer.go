package presence

import (
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Member keys are written by a writer that keeps each key's writes in
// order. A Join waits for its write, and for its own node's view to show it
// (a member whose subscription_succeeded went out is in the bucket and in
// this node's view, so the next subscriber's member list has it);
// a Leave does not: it returns at once, and the delete lands after any
// write of the key still queued.
//
// Writes of one key stay in order (a key always goes to the same shard, and
// a shard publishes in order on one connection), so a quick leave never
// lands before its join. A write that fails is healed without a retry of
// its own: every own member key is written again by the refresh (TTL/3),
// and a key that could not be deleted expires with the TTL, so no member is
// lost for longer than TTL/3 and no ghost outlives the TTL.
const (
	writerShards = 8
	writerQueue  = 4096 // writes waiting a shard; past it they are left to the refresh and the TTL
	writerBatch  = 256  // writes published at once before their acks are awaited
)

// memberOp is one write of a member key; val nil deletes it. done, when
// set, receives the write's outcome.
type memberOp struct {
	key  string
	val  []byte
	done chan written
}

// written is a write's outcome: the bucket revision it got, or its error.
type written struct {
	rev uint64
	err error
}

// writer owns the background writes of member keys.
type writer struct {
	t       *Tracker
	seed    maphash.Seed
	shards  [writerShards]chan memberOp
	pending atomic.Int64 // queued or in flight
	dropped atomic.Int64 // left to the refresh and the TTL because a queue was full
}

func newWriter(t *Tracker) *writer {
	w := &writer{t: t, seed: maphash.MakeSeed()}
	for i := range w.shards {
		w.shards[i] = make(chan memberOp, writerQueue)
	}
	return w
}

// write queues op for its key's shard; it never blocks.
func (w *writer) write(op memberOp) {
	w.pending.Add(1)
	select {
	case w.shards[maphash.String(w.seed, op.key)%writerShards] <- op:
	default:
		w.pending.Add(-1)
		if w.dropped.Add(1)%1000 == 1 {
			w.t.log.Warn("presence writes behind: left to the refresh and the TTL", slog.Int64("dropped", w.dropped.Load()))
		}
	}
}

// writeWait queues op, waiting for room, and returns the bucket revision
// of the write once it was written (or failed), or when ctx ends.
func (w *writer) writeWait(ctx context.Context, op memberOp) (uint64, error) {
	op.done = make(chan written, 1)
	w.pending.Add(1)
	select {
	case w.shards[maphash.String(w.seed, op.key)%writerShards] <- op:
	case <-ctx.Done():
		w.pending.Add(-1)
		return 0, ctx.Err()
	}
	select {
	case r := <-op.done:
		return r.rev, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// run drives the shards until ctx ends.
func (w *writer) run(ctx context.Context) {
	for i := range w.shards {
		go w.shard(ctx, w.shards[i])
	}
}

func (w *writer) shard(ctx context.Context, in chan memberOp) {
	batch := make([]memberOp, 0, writerBatch)
	for {
		select {
		case op := <-in:
			batch = append(batch[:0], op)
		case <-ctx.Done():
			return
		}
	fill:
		for len(batch) < writerBatch {
			select {
			case op := <-in:
				batch = append(batch, op)
			default:
				break fill
			}
		}
		w.publish(ctx, batch)
		w.pending.Add(-int64(len(batch)))
	}
}

// publish writes a batch in order and waits for the acks (bounded),
// telling each op that waits its outcome.
func (w *writer) publish(ctx context.Context, batch []memberOp) {
	prefix := "$KV." + w.t.bucket().Bucket() + "."
	type sent struct {
		op memberOp
		f  jetstream.PubAckFuture
	}
	inflight := make([]sent, 0, len(batch))
	for _, op := range batch {
		msg := &nats.Msg{Subject: prefix + op.key, Data: op.val}
		if op.val == nil {
			msg.Header = nats.Header{kvOperation: []string{"DEL"}}
		}
		f, err := w.t.js.PublishMsgAsync(msg)
		if err != nil {
			w.done(op, 0, err)
			continue
		}
		inflight = append(inflight, sent{op, f})
	}
	timeout := time.NewTimer(flushTimeout)
	defer timeout.Stop()
	for _, s := range inflight {
		select {
		case ack := <-s.f.Ok():
			w.done(s.op, ack.Sequence, nil)
		case err := <-s.f.Err():
			w.done(s.op, 0, err)
		case <-timeout.C:
			w.done(s.op, 0, errWriteTimeout)
		case <-ctx.Done():
			w.done(s.op, 0, ctx.Err())
		}
	}
}

// errWriteTimeout is a member write whose ack did not come in time.
var errWriteTimeout = errors.New("presence write: no ack in time")

// done reports an op's outcome to whoever waits for it; a failure nobody
// waits for is healed by the refresh (puts) or the TTL (deletes).
func (w *writer) done(op memberOp, rev uint64, err error) {
	if op.done != nil {
		op.done <- written{rev, err}
		return
	}
	if err != nil {
		w.t.log.Debug("presence write", slog.String("key", op.key), slog.Any("err", err))
	}
}

// drain waits, up to ctx, until every queued write was attempted.
func (w *writer) drain(ctx context.Context) {
	for w.pending.Load() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}
