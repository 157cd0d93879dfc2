package bus

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// confirmer reads the stream positions that confirm new subscriptions on a
// NATS cluster (see Subscribe) and shares the reads: subscribes that wait
// for a read already in flight take its answer, and the checks that come
// due together are answered by one read, so a connect storm over thousands
// of channels costs a few stream reads, not two per channel.
type confirmer struct {
	b     *Bus
	reads atomic.Int64 // stream reads made, for tests

	mu       sync.Mutex
	inflight map[string]*seqRead       // app -> base read in flight
	checks   map[string][]pendingCheck // app -> checks waiting for their time
	timers   map[string]*time.Timer    // app -> when its next check is due
}

type seqRead struct {
	done chan struct{}
	seq  uint64
	err  error
}

type pendingCheck struct {
	sh      *shard
	subject string
	ready   time.Time    // may be answered from then on (3/4 of the delay) ...
	due     time.Time    // ... and is answered by then, with the others ready
	stopped *atomic.Bool // set by Unsubscribe
}

func newConfirmer(b *Bus) *confirmer {
	return &confirmer{b: b, inflight: map[string]*seqRead{}, checks: map[string][]pendingCheck{}, timers: map[string]*time.Timer{}}
}

// base returns the app stream's last sequence, read after base was called
// or shortly before (a read in flight is shared): taken before the
// subscription exists, it is never newer than what the subscription owes.
func (c *confirmer) base(app string) (uint64, error) {
	c.mu.Lock()
	r := c.inflight[app]
	if r != nil {
		c.mu.Unlock()
		<-r.done
		return r.seq, r.err
	}
	r = &seqRead{done: make(chan struct{})}
	c.inflight[app] = r
	c.mu.Unlock()
	c.reads.Add(1)
	r.seq, r.err = c.lastSeq(app, time.Second)
	c.mu.Lock()
	delete(c.inflight, app)
	c.mu.Unlock()
	close(r.done)
	return r.seq, r.err
}

// schedule has the subscription to subject checked against the stream
// after d; the returned flag, once set, cancels it.
func (c *confirmer) schedule(app string, sh *shard, subject string, d time.Duration) *atomic.Bool {
	stopped := &atomic.Bool{}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	c.checks[app] = append(c.checks[app], pendingCheck{sh: sh, subject: subject, ready: now.Add(d * 3 / 4), due: now.Add(d), stopped: stopped})
	if c.timers[app] == nil {
		c.timers[app] = time.AfterFunc(d, func() { c.fire(app) })
	}
	return stopped
}

// fire answers the app's checks that are ready with one read of the
// stream: those subscribed within a quarter of the delay share it.
func (c *confirmer) fire(app string) {
	now := time.Now()
	c.mu.Lock()
	all := c.checks[app]
	n := 0
	for n < len(all) && !all[n].ready.After(now) {
		n++ // checks are appended in order
	}
	due, rest := all[:n], all[n:]
	if len(rest) > 0 {
		c.checks[app] = append([]pendingCheck(nil), rest...)
		c.timers[app] = time.AfterFunc(rest[0].due.Sub(now), func() { c.fire(app) })
	} else {
		delete(c.checks, app)
		delete(c.timers, app)
	}
	c.mu.Unlock()
	if len(due) == 0 {
		return
	}
	c.reads.Add(1)
	upTo, err := c.lastSeq(app, 5*time.Second)
	if err != nil {
		return // the next event of each channel still reveals what is missing
	}
	for _, p := range due {
		if !p.stopped.Load() {
			p.sh.enqueue(marker(markCheck, p.subject, upTo))
		}
	}
}

// after is the delay of the check of new subscriptions (0: none).
func (c *confirmer) after() time.Duration {
	b := c.b
	switch {
	case b.confirm != 0:
		return max(b.confirm, 0)
	case b.emb == nil && b.nc.ConnectedClusterName() != "":
		return time.Second
	}
	return 0
}

// lastSeq reads the app stream's last sequence, within d.
func (c *confirmer) lastSeq(app string, d time.Duration) (uint64, error) {
	ctx, cancel := context.WithTimeout(c.b.ctx, d)
	defer cancel()
	return c.b.LastSeq(ctx, app)
}
