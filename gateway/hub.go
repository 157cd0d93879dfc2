package gateway

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/protocol"
)

const hubShards = 64

// hub maps channels to their local subscribers. It is sharded by channel so
// that subscribes and deliveries on different channels do not contend.
type hub struct {
	seed   maphash.Seed
	shards [hubShards]hubShard
	broker Broker
	// counted receives a channel's local subscriber count after every
	// change, under the channel's shard lock so calls are in order.
	counted func(app, channel string, n int)
	// channelsChanged is told when an app's channel gets its first or
	// loses its last local subscriber (metrics); may be nil.
	channelsChanged func(app string, delta int)
	// linger is how long a channel keeps its bus subscription after its
	// last local subscriber left, so that the bus's window of recent
	// events stays complete for clients that come back (0: none).
	linger time.Duration
}

type hubShard struct {
	mu       sync.RWMutex
	channels map[chanKey]*hubChannel
}

type chanKey struct{ app, channel string }

type hubChannel struct {
	subs  map[*client]*subscription
	ready chan struct{} // closed once the bus subscription exists (or failed)
	sub   Unsubscriber
	err   error
	// expiry ends the bus subscription of a channel without local
	// subscribers (lingering); nil while the channel has subscribers.
	// lingers counts the lingers, so a timer that fires late knows it is
	// stale.
	expiry  *time.Timer
	lingers uint64
}

// subscription is one client's membership of one channel. Deliveries are
// held (queued here) until the subscribe handshake is done, so that
// subscription_succeeded and a cached or replayed event come first.
type subscription struct {
	c      *client
	userID string // presence member id, on presence channels
	// memberAfter: member events up to this presence revision are already
	// in the list subscription_succeeded carried.
	memberAfter atomic.Uint64
	held        atomic.Bool
	after       atomic.Uint64 // deliver only events with a greater sequence
	// counted is the last subscription_count sent to this subscriber (0:
	// none yet); written only by the channel's count sender.
	counted atomic.Int64
	gone    atomic.Bool // the client left the channel: a replay stops

	mu      sync.Mutex
	pending []delivery
	// bounded is set on a resuming subscription while its replay runs
	// (most subscriptions never resume: the counts stay unallocated).
	bounded *heldBound
}

// heldBound is what a resuming subscription holds: at most maxHeld stored
// events (maxHeldBytes); beyond that stored events are not kept but read
// from the stream by the replay, up to overflow.
type heldBound struct {
	stored   int
	bytes    int
	overflow uint64
	unbound  int // events without a sequence held (member and client events)
}

// Bounds of what a resuming subscription holds during its replay: a
// quarter of the socket's outbox, which the release sends at once.
const (
	maxHeld      = maxQueuedFrames / 4
	maxHeldBytes = maxQueuedBytes / 4
)

// delivery is what the hub writes: a stored event (Seq set) or a member
// event derived from presence (rev set).
type delivery struct {
	bus.Delivery
	rev uint64
}

func newHub(b Broker, counted func(app, channel string, n int)) *hub {
	h := &hub{seed: maphash.MakeSeed(), broker: b, counted: counted}
	for i := range h.shards {
		h.shards[i].channels = map[chanKey]*hubChannel{}
	}
	return h
}

func (h *hub) shard(k chanKey) *hubShard {
	var m maphash.Hash
	m.SetSeed(h.seed)
	m.WriteString(k.app)
	m.WriteByte(0)
	m.WriteString(k.channel)
	return &h.shards[m.Sum64()%hubShards]
}

// join adds c to a channel with its deliveries held, subscribing the node to
// the channel's events when c is the first local subscriber.
func (h *hub) join(c *client, app, channel string) (*subscription, error) {
	k := chanKey{app, channel}
	sh := h.shard(k)
	s := &subscription{c: c}
	s.held.Store(true)
	sh.mu.Lock()
	hc := sh.channels[k]
	first := hc == nil
	if first {
		hc = &hubChannel{subs: map[*client]*subscription{}, ready: make(chan struct{})}
		sh.channels[k] = hc
	}
	if hc.expiry != nil {
		// Lingering: its bus subscription is taken over.
		hc.expiry.Stop()
		hc.expiry = nil
	}
	occupied := len(hc.subs) == 0
	hc.subs[c] = s
	h.counted(app, channel, len(hc.subs))
	sh.mu.Unlock()
	if occupied && h.channelsChanged != nil {
		h.channelsChanged(app, 1)
	}
	if first {
		// A failed Subscribe returns a nil *bus.Subscription: stored in
		// the interface it would be a non-nil Unsubscriber holding nil.
		if sub, err := h.broker.Subscribe(app, channel); err != nil {
			hc.err = err
		} else {
			hc.sub = sub
		}
		close(hc.ready)
	} else {
		<-hc.ready
	}
	if hc.err != nil {
		h.leave(c, app, channel)
		return nil, hc.err
	}
	return s, nil
}

// leave removes c from a channel and drops the node's interest when the
// channel has no local subscriber left. It reports whether c was a member.
func (h *hub) leave(c *client, app, channel string) bool {
	k := chanKey{app, channel}
	sh := h.shard(k)
	sh.mu.Lock()
	hc := sh.channels[k]
	if hc == nil {
		sh.mu.Unlock()
		return false
	}
	if _, ok := hc.subs[c]; !ok {
		sh.mu.Unlock()
		return false
	}
	delete(hc.subs, c)
	h.counted(app, channel, len(hc.subs))
	last := len(hc.subs) == 0
	end := false
	if last {
		// The bus subscription is ready: join waits for it before a
		// member can leave.
		if h.linger > 0 && hc.sub != nil {
			hc.lingers++
			n := hc.lingers
			hc.expiry = time.AfterFunc(h.linger, func() { h.expire(k, hc, n) })
		} else {
			delete(sh.channels, k)
			end = true
		}
	}
	sh.mu.Unlock()
	if last && h.channelsChanged != nil {
		h.channelsChanged(app, -1)
	}
	if end {
		<-hc.ready
		if hc.sub != nil {
			_ = hc.sub.Unsubscribe()
		}
	}
	return true
}

// expire ends the bus subscription of a channel that lingered without
// local subscribers (its linger number n), unless one joined meanwhile.
func (h *hub) expire(k chanKey, hc *hubChannel, n uint64) {
	sh := h.shard(k)
	sh.mu.Lock()
	if sh.channels[k] != hc || hc.expiry == nil || hc.lingers != n || len(hc.subs) != 0 {
		sh.mu.Unlock()
		return
	}
	delete(sh.channels, k)
	sh.mu.Unlock()
	_ = hc.sub.Unsubscribe()
}

// deliver writes one stored event to every local subscriber of its channel.
func (h *hub) deliver(d delivery) {
	k := chanKey{d.App, d.Channel}
	sh := h.shard(k)
	sh.mu.RLock()
	hc := sh.channels[k]
	if hc != nil {
		for c, s := range hc.subs {
			if d.Exclude != "" && c.socketID == d.Exclude {
				continue
			}
			s.offer(d)
		}
	}
	sh.mu.RUnlock()
}

// each calls f for every local subscriber of a channel and returns how many
// there are; f runs under the shard's read lock and must not block.
func (h *hub) each(app, channel string, f func(*subscription)) int {
	k := chanKey{app, channel}
	sh := h.shard(k)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	hc := sh.channels[k]
	if hc == nil {
		return 0
	}
	if f != nil {
		for _, s := range hc.subs {
			f(s)
		}
	}
	return len(hc.subs)
}

func (s *subscription) offer(d delivery) {
	if s.held.Load() {
		s.mu.Lock()
		if s.held.Load() {
			s.hold(d)
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
	if s.wants(d, s.after.Load()) {
		s.c.send(d.Frame)
		s.c.app().Metrics.Delivered.Inc()
	}
}

// wants tells whether the subscriber still needs d: a stored event newer
// than after (Seq 0: not from the stream), and not a member event already
// in the member list its subscription_succeeded carried.
func (s *subscription) wants(d delivery, after uint64) bool {
	if d.rev != 0 && d.rev <= s.memberAfter.Load() {
		return false
	}
	return d.Seq == 0 || d.Seq > after
}

// hold queues a delivery while the subscription is held; s.mu is held.
func (s *subscription) hold(d delivery) {
	b := s.bounded
	if b == nil {
		s.pending = append(s.pending, d)
		return
	}
	if d.Seq == 0 {
		// Member and client events are not stored: they must be kept.
		if b.unbound >= maxHeld {
			s.c.app().Metrics.SlowConsumers.Inc()
			s.c.fail(protocol.CodeOverCapacity, "slow consumer: too many events held during a resume")
			return
		}
		b.unbound++
		s.pending = append(s.pending, d)
		return
	}
	if b.overflow == 0 && b.stored < maxHeld && b.bytes+len(d.Frame) <= maxHeldBytes {
		b.stored++
		b.bytes += len(d.Frame)
		s.pending = append(s.pending, d)
		return
	}
	if b.overflow == 0 {
		// Over the bound: the stored events held so far and every later
		// one are read from the stream by the replay instead.
		kept := s.pending[:0]
		for _, p := range s.pending {
			if p.Seq == 0 {
				kept = append(kept, p)
			}
		}
		clear(s.pending[len(kept):])
		s.pending, b.stored, b.bytes = kept, 0, 0
	}
	b.overflow = max(b.overflow, d.Seq)
}

// bound limits what the subscription holds until its replay ends.
func (s *subscription) bound() {
	s.mu.Lock()
	if s.bounded == nil {
		s.bounded = &heldBound{}
	}
	s.mu.Unlock()
}

// release ends the hold: queued events newer than after are sent, in order,
// and from now on events go straight to the client.
func (s *subscription) release(after uint64) {
	s.mu.Lock()
	s.releaseLocked(after)
	s.mu.Unlock()
}

// finish ends the hold after a replay that sent every event up to pos. It
// reports false, keeping the hold, when stored events after pos were not
// held (see hold): the replay reads them first.
func (s *subscription) finish(pos uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bounded != nil && s.bounded.overflow > pos {
		return false
	}
	s.releaseLocked(pos)
	return true
}

// overflowed returns the last stored event not held (0: none).
func (s *subscription) overflowed() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bounded == nil {
		return 0
	}
	return s.bounded.overflow
}

func (s *subscription) releaseLocked(after uint64) {
	s.after.Store(after)
	for _, d := range s.pending {
		if s.wants(d, after) {
			s.c.send(d.Frame)
		}
	}
	s.pending = nil
	s.bounded = nil
	s.held.Store(false)
}
