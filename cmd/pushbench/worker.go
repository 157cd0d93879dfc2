package main

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/internal/gws"
)

// worker holds one process's share of the sockets: global indices lo..hi-1.
type worker struct {
	cfg    *config
	lo, hi int
	src    []net.IP // source addresses of its sockets, round robin (none: the kernel's choice)
	socks  []sock
	names  []string // channel names, by index
	// subs[c] is the number of local subscribers of channel c (fanout).
	subs    []int64
	seqHint uint32

	ready, failed, disconnects, errorFrames atomic.Int64
	lastReady                               atomic.Int64
	closing                                 atomic.Bool

	delivered, unique, dup, ooo, foreign atomic.Int64
	sent, pings, skipped, joins, leaves  atomic.Int64
	memberAdded, memberRemoved           atomic.Int64
	lat, joinLat                         hist

	ticks0 int64 // this process's CPU ticks when the load phase began

	mu   sync.Mutex
	errs []string
}

const maxErrs = 5

func (w *worker) note(msg string) {
	w.mu.Lock()
	if len(w.errs) < maxErrs {
		if len(msg) > 300 {
			msg = msg[:300]
		}
		w.errs = append(w.errs, msg)
	}
	w.mu.Unlock()
}

func (w *worker) fail(msg string) {
	w.failed.Add(1)
	w.note(msg)
}

// channelNames returns the channel names of a mode.
func channelNames(cfg *config) []string {
	n := cfg.Channels
	prefix := "bench-"
	switch cfg.Mode {
	case "clientevents":
		n, prefix = cfg.Pairs, "private-bench-"
	case "presence":
		prefix = "presence-bench-"
	}
	names := make([]string, n)
	for i := range names {
		names[i] = prefix + strconv.Itoa(i)
	}
	return names
}

func newWorker(cfg *config, lo, hi int, src []net.IP) *worker {
	w := &worker{cfg: cfg, lo: lo, hi: hi, src: src, names: channelNames(cfg)}
	w.socks = make([]sock, hi-lo)
	w.subs = make([]int64, len(w.names))
	if cfg.Channels > 0 {
		w.seqHint = uint32(cfg.expectedEvents()/int64(max(cfg.Channels, 1))) + 1
	}
	var public [][]byte
	if cfg.Mode == "fanout" || cfg.Mode == "connect" {
		public = make([][]byte, len(w.names))
		for i, n := range w.names {
			public[i] = subscribeFrame(n, "", "")
		}
	}
	for i := range w.socks {
		s := &w.socks[i]
		g := lo + i
		s.w, s.g = w, int32(g)
		switch cfg.Mode {
		case "connect", "fanout":
			s.role = roleSub
			if len(w.names) > 0 {
				s.ch = int32(g % len(w.names))
				s.sub = public[s.ch]
				w.subs[s.ch]++
			}
		case "clientevents":
			s.role, s.ch = rolePinger, int32(g/2)
			if g%2 == 1 {
				s.role = rolePonger
			}
		case "presence":
			s.ch = int32(g % len(w.names))
			s.role = roleChurner
			if g < len(w.names) {
				s.role = roleObserver
			}
		}
	}
	return w
}

// setupResult is what a worker reports once its sockets are up.
type setupResult struct {
	Ready   int64   `json:"ready"`
	Failed  int64   `json:"failed"`
	Seconds float64 `json:"seconds"` // first dial to last socket ready
}

// setup dials every socket (cfg.Concurrency at a time) and waits until each
// is ready or failed, or the setup timeout passes.
func (w *worker) setup(ctx context.Context) setupResult {
	cfg := w.cfg
	// Several servers (gateways of a cluster) take the sockets in turn.
	var addrs []string
	for _, target := range strings.Split(cfg.WS, ",") {
		u, _ := url.Parse(target)
		u.Path = "/app/" + cfg.Key
		u.RawQuery = "protocol=7&client=pushbench&version=1"
		addrs = append(addrs, u.String())
	}
	dialers := []*net.Dialer{{Timeout: 10 * time.Second}}
	if len(w.src) > 0 {
		dialers = dialers[:0]
		for _, ip := range w.src {
			dialers = append(dialers, &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: ip}})
		}
	}
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(cfg.Concurrency, len(w.socks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(w.socks) {
					return
				}
				s := &w.socks[i]
				dialer := dialers[i%len(dialers)]
				conn, _, err := gws.NewClient(s, &gws.ClientOption{
					Addr:             addrs[(w.lo+i)%len(addrs)],
					ReadBufferSize:   cfg.ReadBuffer,
					HandshakeTimeout: 10 * time.Second,
					NewDialer:        func() (gws.Dialer, error) { return dialer, nil },
					NewSession:       func() gws.SessionStorage { return noSession{} },
				})
				if err != nil {
					s.state.Store(stFailed)
					w.fail("dial: " + err.Error())
					continue
				}
				s.conn = conn
				go conn.ReadLoop()
			}
		}()
	}
	wg.Wait()
	n := int64(len(w.socks))
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for w.ready.Load()+w.failed.Load() < n && ctx.Err() == nil {
		<-tick.C
	}
	r := setupResult{Ready: w.ready.Load(), Failed: w.failed.Load()}
	if last := w.lastReady.Load(); last > 0 {
		r.Seconds = float64(last-start.UnixNano()) / 1e9
	}
	return r
}

// run drives the sockets' own load (clientevents, presence) for the load
// phase: rate is this worker's share of the events per second.
func (w *worker) run(ctx context.Context, rate float64, count int64) {
	w.ticks0, _ = cpuTicks(0)
	switch w.cfg.Mode {
	case "clientevents":
		var pingers []*sock
		for i := range w.socks {
			if s := &w.socks[i]; s.role == rolePinger && s.state.Load() == stReady && w.partnerReady(i) {
				pingers = append(pingers, s)
			}
		}
		buf := make([]byte, 0, 128)
		pace(ctx, rate, count, len(pingers), func(n int64, k int) {
			s := pingers[k]
			seq := n/int64(len(pingers)) + 1
			buf = append(buf[:0], `{"event":"client-ping","channel":`...)
			buf = protocol.AppendJSONString(buf, w.names[s.ch])
			buf = append(buf, `,"data":"t=`...)
			buf = strconv.AppendInt(buf, time.Now().UnixNano(), 10)
			buf = append(buf, ";s="...)
			buf = strconv.AppendInt(buf, seq, 10)
			buf = append(buf, `"}`...)
			if err := s.conn.WriteMessage(gws.OpcodeText, buf); err == nil {
				w.sent.Add(1)
			}
		})
	case "presence":
		var churners []*sock
		for i := range w.socks {
			if s := &w.socks[i]; s.role == roleChurner && s.state.Load() == stReady {
				churners = append(churners, s)
			}
		}
		pace(ctx, rate, count, len(churners), func(n int64, k int) {
			s := churners[k]
			if !s.state.CompareAndSwap(stReady, stJoining) {
				w.skipped.Add(1) // still a member from its last turn
				return
			}
			s.joinSent.Store(time.Now().UnixNano())
			if err := s.conn.WriteMessage(gws.OpcodeText, s.sub); err == nil {
				w.sent.Add(1)
			}
		})
	}
}

func (w *worker) partnerReady(i int) bool {
	return i+1 < len(w.socks) && w.socks[i+1].state.Load() == stReady
}

// pace calls f for events n = 0, 1, … at rate per second, spread round-robin
// over k targets, until count events (0: no limit) or ctx ends.
func pace(ctx context.Context, rate float64, count int64, k int, f func(n int64, target int)) {
	if k == 0 || rate <= 0 {
		return
	}
	start := time.Now()
	for n := int64(0); count == 0 || n < count; n++ {
		due := start.Add(time.Duration(float64(n) / rate * 1e9))
		if d := time.Until(due); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		} else if ctx.Err() != nil {
			return
		}
		f(n, int(n%int64(k)))
	}
}

// partial is one worker's result; the parent merges them.
type partial struct {
	Setup         setupResult `json:"setup"`
	Expected      int64       `json:"expected"`
	Delivered     int64       `json:"delivered"`
	Unique        int64       `json:"unique"`
	Dup           int64       `json:"dup"`
	OOO           int64       `json:"ooo"`
	Foreign       int64       `json:"foreign"`
	Sent          int64       `json:"sent"`
	Pings         int64       `json:"pings"`
	Skipped       int64       `json:"skipped"`
	Joins         int64       `json:"joins"`
	Leaves        int64       `json:"leaves"`
	MemberAdded   int64       `json:"member_added"`
	MemberRemoved int64       `json:"member_removed"`
	Disconnects   int64       `json:"disconnects"`
	ErrorFrames   int64       `json:"error_frames"`
	Lat           sparse      `json:"lat"`
	JoinLat       sparse      `json:"join_lat"`
	CPUTicks      int64       `json:"cpu_ticks"`
	Errors        []string    `json:"errors,omitempty"`
}

// finish waits (at most drain) for what was sent to arrive, then closes
// the sockets and reports. published[c] is the number of events the API
// accepted on channel c (fanout).
func (w *worker) finish(published []int64, drain time.Duration) partial {
	var expected int64
	switch w.cfg.Mode {
	case "fanout":
		for c, n := range published {
			if c < len(w.subs) {
				expected += n * w.subs[c]
			}
		}
	case "clientevents":
		expected = w.sent.Load()
	}
	deadline := time.Now().Add(drain)
	for time.Now().Before(deadline) {
		if w.cfg.Mode == "presence" {
			if w.joins.Load() >= w.sent.Load() && w.leaves.Load() >= w.joins.Load() {
				break
			}
		} else if w.unique.Load() >= expected {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if w.cfg.Mode == "presence" && w.cfg.Stay == 0 {
		// Member events reach observers a little after the leave: give them
		// up to a second more (the summary shows any that never came).
		until := min(deadline.UnixNano(), time.Now().Add(time.Second).UnixNano())
		for time.Now().UnixNano() < until && w.memberRemoved.Load() < w.leaves.Load() {
			time.Sleep(5 * time.Millisecond)
		}
	}
	w.closing.Store(true)
	p := partial{
		Expected: expected, Delivered: w.delivered.Load(), Unique: w.unique.Load(),
		Dup: w.dup.Load(), OOO: w.ooo.Load(), Foreign: w.foreign.Load(),
		Sent: w.sent.Load(), Pings: w.pings.Load(), Skipped: w.skipped.Load(),
		Joins: w.joins.Load(), Leaves: w.leaves.Load(),
		MemberAdded: w.memberAdded.Load(), MemberRemoved: w.memberRemoved.Load(),
		Disconnects: w.disconnects.Load(), ErrorFrames: w.errorFrames.Load(),
		Lat: w.lat.sparse(), JoinLat: w.joinLat.sparse(),
	}
	if t, err := cpuTicks(0); err == nil {
		p.CPUTicks = t - w.ticks0
	}
	w.mu.Lock()
	p.Errors = append(p.Errors, w.errs...)
	w.mu.Unlock()
	return p
}

// close closes every socket.
func (w *worker) close() {
	w.closing.Store(true)
	for i := range w.socks {
		if c := w.socks[i].conn; c != nil {
			_ = c.NetConn().Close()
		}
	}
}
