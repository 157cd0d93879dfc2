package presence

import (
	"context"
	"hash/maphash"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Member keys are written off the subscriber's path: Join and Leave record
// the change in the node's own keys and hand the write to a writer, which
// publishes it and waits for its ack in the background. A subscriber gets
// subscription_succeeded without a KV round trip (issue 20: it was most of
// a presence join's latency), and the cluster learns of the member when the
// write lands, as before, through the watchers.
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

// memberOp is one write of a member key; val nil deletes it.
type memberOp struct {
	key string
	val []byte
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

// run drives the shards until ctx ends; what is queued then gets one last
// attempt, bounded by flushTimeout.
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

// publish writes a batch in order and waits for the acks (bounded).
func (w *writer) publish(ctx context.Context, batch []memberOp) {
	prefix := "$KV." + w.t.bucket().Bucket() + "."
	futures := make([]jetstream.PubAckFuture, 0, len(batch))
	for _, op := range batch {
		msg := &nats.Msg{Subject: prefix + op.key, Data: op.val}
		if op.val == nil {
			msg.Header = nats.Header{kvOperation: []string{"DEL"}}
		}
		f, err := w.t.js.PublishMsgAsync(msg)
		if err != nil {
			w.t.log.Debug("presence write", slog.String("key", op.key), slog.Any("err", err))
			continue
		}
		futures = append(futures, f)
	}
	timeout := time.NewTimer(flushTimeout)
	defer timeout.Stop()
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			w.t.log.Debug("presence write", slog.String("subject", f.Msg().Subject), slog.Any("err", err))
		case <-timeout.C:
			return
		case <-ctx.Done():
			return
		}
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
