package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/protocol"
)

// Resume (Pushd's extension): a subscription with resume_from gets the
// channel's events after that position before its live ones. The replay
// runs off the socket's read loop, one resume of a socket at a time, and
// is paced by the socket: a page is queued only when the outbox has room,
// so a replay never makes a slow consumer of a client that reads.
const (
	// maxReplay bounds one resume; a client further behind gets
	// recovery_failed and refetches its state.
	maxReplay = 10000
	// A page of a replay is queued while at most replayLow frames (bytes)
	// wait in the socket's outbox, so a replay fills at most half of it and
	// leaves the rest to live events of other channels.
	replayLowFrames  = maxQueuedFrames / 4
	replayLowBytes   = maxQueuedBytes / 4
	replayPageFrames = maxQueuedFrames / 4
	replayPageBytes  = maxQueuedBytes / 4
	// A socket's resumes draw on a budget of replayBurst, refilled by
	// replayRate a second: a resume costs replayCost, replayStreamCost
	// more when it reads the stream (the first read is of 64 events, also
	// when it finds too many), plus the events it sends. A resume over
	// budget waits, so a loop of resumes on one socket cannot take more
	// than about replayRate events a second.
	replayBurst      = 2 * maxReplay
	replayRate       = maxReplay
	replayCost       = 10
	replayStreamCost = 64
	// replayCatchUp bounds the wait for stored events that were not held
	// to become readable (a stream replica a little behind its leader).
	replayCatchUp = storeTimeout
)

// replayJob is one resuming subscription waiting for its replay.
type replayJob struct {
	s         *subscription
	channel   string
	from      uint64
	oldSocket string
}

// replays is a client's queue of resumes, run one at a time by a goroutine
// that lives while the queue is not empty.
type replays struct {
	mu     sync.Mutex
	queue  []replayJob
	cancel context.CancelFunc // of the running worker; nil: none runs

	// The socket's resume budget, used by the worker only.
	tokens float64
	at     time.Time
}

// stop ends the running replay (the socket closed).
func (rp *replays) stop() {
	rp.mu.Lock()
	if rp.cancel != nil {
		rp.cancel()
	}
	rp.mu.Unlock()
}

// spend takes n from the budget, waiting while it is overdrawn; false when
// ctx ends first.
func (rp *replays) spend(ctx context.Context, n int) bool {
	now := time.Now()
	if rp.at.IsZero() {
		rp.tokens = replayBurst
	} else {
		rp.tokens = min(replayBurst, rp.tokens+now.Sub(rp.at).Seconds()*replayRate)
	}
	rp.at = now
	rp.tokens -= float64(n)
	if rp.tokens >= 0 {
		return true
	}
	t := time.NewTimer(time.Duration(-rp.tokens / replayRate * float64(time.Second)))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// replays returns the client's resume queue, made on its first resume (most
// sockets never resume: the 72 bytes stay unallocated).
func (c *client) replays() *replays {
	if rp := c.rp.Load(); rp != nil {
		return rp
	}
	c.rp.CompareAndSwap(nil, &replays{})
	return c.rp.Load()
}

// queueReplay schedules the replay of a resuming subscription.
func (f *frames) queueReplay(c *client, j replayJob) {
	rp := c.replays()
	rp.mu.Lock()
	rp.queue = append(rp.queue, j)
	var ctx context.Context
	start := rp.cancel == nil
	if start {
		ctx, rp.cancel = context.WithCancel(f.ctx)
	}
	rp.mu.Unlock()
	if start {
		go f.runReplays(ctx, c)
	}
}

func (f *frames) runReplays(ctx context.Context, c *client) {
	rp := c.replays()
	for {
		rp.mu.Lock()
		if len(rp.queue) == 0 || ctx.Err() != nil {
			rp.cancel()
			rp.cancel, rp.queue = nil, nil
			rp.mu.Unlock()
			return
		}
		j := rp.queue[0]
		rp.queue[0] = replayJob{}
		rp.queue = rp.queue[1:]
		rp.mu.Unlock()
		f.replay(ctx, c, j)
	}
}

// replay sends a resuming subscriber the events of its channel after its
// position, in order and paced by its socket, then ends the hold of its
// live events; or pusher:recovery_failed when the position cannot be
// proven complete (see bus.Replay) or more than maxReplay events follow.
func (f *frames) replay(ctx context.Context, c *client, j replayJob) {
	s, a, rp := j.s, c.app(), c.replays()
	if s.gone.Load() || c.closed.Load() || !rp.spend(ctx, replayCost) {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, storeTimeout)
	r, err := f.broker.Replay(rctx, a.Key, j.channel, j.from, maxReplay)
	cancel()
	if (err != nil || !r.FromWindow()) && !rp.spend(ctx, replayStreamCost) {
		return
	}
	if err != nil {
		f.recoveryFailed(ctx, c, j, j.from, err)
		return
	}
	if r.FromWindow() {
		a.Metrics.ResumesWindow.Inc()
	} else {
		a.Metrics.ResumesStream.Inc()
	}
	pos := j.from
	var wait time.Time // since when the replay waits for events not held
	for !s.gone.Load() {
		if !c.out.waitRoom(ctx, replayLowFrames, replayLowBytes) {
			return
		}
		rctx, cancel := context.WithTimeout(ctx, storeTimeout)
		evs, err := r.Next(rctx, replayPageFrames, replayPageBytes)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				f.recoveryFailed(ctx, c, j, pos, err)
			}
			return
		}
		for _, e := range evs {
			pos = e.Seq
			if e.Exclude != "" && (e.Exclude == j.oldSocket || e.Exclude == c.socketID) {
				continue // the client's own action, triggered with its socket id
			}
			c.send(protocol.WithSeq(e.Frame, e.Seq))
		}
		if len(evs) > 0 {
			a.Metrics.Replayed.Add(float64(len(evs)))
			wait = time.Time{}
			if !rp.spend(ctx, len(evs)) {
				return
			}
			continue
		}
		// Caught up: the held events follow, within the socket's budget.
		if s.finish(pos) {
			return
		}
		// Live events after pos were not held (too many): they are in
		// the stream, readable in a moment if a replica answered.
		if wait.IsZero() {
			wait = time.Now()
		} else if time.Since(wait) > replayCatchUp {
			f.recoveryFailed(ctx, c, j, pos, fmt.Errorf("events up to %d not readable within %s", s.overflowed(), replayCatchUp))
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// recoveryFailed tells the subscriber that its position cannot be resumed
// from, with the position live delivery continues after, and ends the
// hold: held events up to that position are not sent (the client refetches
// its state, which includes them).
func (f *frames) recoveryFailed(ctx context.Context, c *client, j replayJob, sent uint64, err error) {
	a := c.app()
	pos, first := sent, uint64(0)
	var gap *bus.GapError
	if errors.As(err, &gap) {
		pos, first = gap.Last, gap.First // also when the client's position is beyond it
		f.log.Debug("resume refused", slog.String("app", a.Key), slog.String("channel", j.channel),
			slog.Uint64("from", j.from), slog.String("reason", gap.Reason))
	} else {
		f.log.Error("resume failed", slog.String("app", a.Key), slog.String("channel", j.channel),
			slog.Uint64("from", j.from), slog.Any("err", err))
	}
	// Stored events that were not held are after it too.
	pos = max(pos, j.s.overflowed())
	a.Metrics.ResumesFailed.Inc()
	if !c.out.waitRoom(ctx, replayLowFrames, replayLowBytes) {
		return
	}
	c.send(protocol.WithSeq(protocol.RecoveryFailed(j.channel, first), pos))
	j.s.release(pos)
}
