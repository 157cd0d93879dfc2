package gateway

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/protocol"
)

// Subscription counting: when an app has it on, every subscriber of a
// public or private channel gets
// {"event":"pusher_internal:subscription_count","channel":C,"data":"{\"subscription_count\":N}"}
// when the channel's subscriber count changes. N is the cluster-wide count
// of the presence tracker, the number GET /channels/{C}?info=subscription_count
// answers; the tracker reports each change on every node, and each node
// tells its own subscribers.
//
// Every frame goes to every subscriber of the channel, so answering a burst
// of N joins change by change would cost N² frames. Changes are coalesced
// per channel instead: the first waits countSettle, later ones wait until
// countEvery after the channel's last frame, and the frame carries the
// count read when it is sent, so the last frame of a burst has the latest
// count. A subscriber that just joined gets the count after countSettle
// without waiting for the channel's interval: that frame goes only to
// subscribers that have had none yet. A channel holds one timer, and only
// while a change waits or its last frame is younger than its interval; no
// goroutine is started per socket.
const (
	// countSettle is how long a channel's first change waits, so that the
	// joins of a burst (a page load, a wave of reconnects) and this node's
	// own count write (the tracker flushes every 50 ms) share one frame.
	countSettle = 100 * time.Millisecond
	// countEvery is the least time between two frames of a channel to its
	// subscribers: a "N viewers" display stays within a second of the
	// truth, and a join burst costs subscribers × seconds frames.
	countEvery = time.Second
	// countEveryLarge replaces countEvery above countLarge subscribers,
	// Pusher's documented rate for big channels (at most every 5 s): there
	// every frame costs as many writes as the channel has subscribers.
	countEveryLarge = 5 * time.Second
	countLarge      = 100
)

// countEvent is the client event; pusher-js sets channel.subscriptionCount
// from its data and emits pusher:subscription_count on the channel.
const countEvent = "pusher_internal:subscription_count"

// countInterval is the least time between a channel's frames at n
// subscribers.
func countInterval(n int) time.Duration {
	if n > countLarge {
		return countEveryLarge
	}
	return countEvery
}

// subCounts holds the channels with a count frame pending or recently sent.
type subCounts struct {
	mu sync.Mutex
	m  map[chanKey]*countState
}

// countState is one channel's throttle; its fields but send are guarded by
// subCounts.mu.
type countState struct {
	timer   *time.Timer
	at      time.Time // when the timer runs; zero: not armed
	last    time.Time // the last frame to every subscriber
	changed bool      // the count changed since last
	fresh   bool      // a subscriber joined and has had no count yet
	send    sync.Mutex
}

// counting reports whether a channel's subscribers get subscription counts:
// its app has subscription counting on, and it is a public or private
// channel (presence channels have member events; '#' channels are internal).
func (r *reactions) counting(app, ch string) bool {
	a := r.apps.Get(app)
	if a == nil || !a.SubscriptionCounting() || strings.HasPrefix(ch, "#") {
		return false
	}
	return protocol.KindOf(ch).HasSubscriptionCount()
}

// noteCount schedules a count frame for a channel with local subscribers:
// changed after the cluster count changed to n, else for a subscriber that
// just joined.
func (r *reactions) noteCount(app, ch string, n int, changed bool) {
	if !r.counting(app, ch) || r.hub.each(app, ch, nil) == 0 {
		return
	}
	k := chanKey{app, ch}
	c := &r.counts
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.m[k]
	if st == nil {
		st = &countState{}
		c.m[k] = st
	}
	at := time.Now().Add(countSettle)
	if changed {
		st.changed = true
		if due := st.last.Add(countInterval(n)); due.After(at) {
			at = due
		}
	} else {
		st.fresh = true
	}
	r.armCount(k, st, at)
}

// armCount makes the channel's timer run at at, unless it runs sooner. The
// caller holds subCounts.mu.
func (r *reactions) armCount(k chanKey, st *countState, at time.Time) {
	if !st.at.IsZero() && !st.at.After(at) {
		return
	}
	st.at = at
	if st.timer == nil {
		st.timer = time.AfterFunc(time.Until(at), func() { r.fireCount(k, st) })
		return
	}
	st.timer.Reset(time.Until(at))
}

// fireCount runs when a channel's timer expires: it sends what is due and
// re-arms the timer for what has to wait, or forgets the channel.
func (r *reactions) fireCount(k chanKey, st *countState) {
	every := countInterval(r.presence.SubscriptionCount(k.app, k.channel))
	now := time.Now()
	c := &r.counts
	c.mu.Lock()
	if c.m[k] != st || st.at.IsZero() || now.Before(st.at) {
		c.mu.Unlock()
		return // a run that re-arming the timer overtook
	}
	st.at = time.Time{}
	if !r.counting(k.app, k.channel) || r.hub.each(k.app, k.channel, nil) == 0 {
		delete(c.m, k)
		c.mu.Unlock()
		return
	}
	all := st.changed && !now.Before(st.last.Add(every))
	fresh := st.fresh
	st.fresh = false
	if all {
		st.changed, st.last = false, now
	}
	if st.changed || now.Before(st.last.Add(every)) {
		// A change waits for the interval to end, or the channel is kept
		// until then so that the next change respects it.
		r.armCount(k, st, st.last.Add(every))
	} else {
		delete(c.m, k)
	}
	c.mu.Unlock()
	if all || fresh {
		r.sendCount(k, st, all)
	}
}

// sendCount sends the channel's current count to its local subscribers
// that do not have it (all) or have had no count yet (!all). The count is
// read under the channel's send lock, so frames never go back in time.
func (r *reactions) sendCount(k chanKey, st *countState, all bool) {
	st.send.Lock()
	defer st.send.Unlock()
	n := r.presence.SubscriptionCount(k.app, k.channel)
	if n <= 0 {
		return // the tracker has yet to see this node's subscribers; its change will come
	}
	data := `{"subscription_count":` + strconv.Itoa(n) + `}`
	d := delivery{Delivery: bus.Delivery{App: k.app, Channel: k.channel,
		Frame: protocol.EventFrame(countEvent, k.channel, data, "")}}
	r.hub.each(k.app, k.channel, func(s *subscription) {
		prev := s.counted.Load()
		if prev == int64(n) || (!all && prev != 0) {
			return
		}
		s.counted.Store(int64(n))
		s.offer(d)
	})
}
