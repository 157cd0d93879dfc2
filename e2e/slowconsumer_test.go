package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pushd/pushd/internal/gws"
)

// healthySub is a subscriber that reads everything and checks that the
// events of its channel arrive complete and in order.
type healthySub struct {
	gws.BuiltinEventHandler
	channel    string
	subscribed chan struct{}
	next       atomic.Int64 // the sequence number expected next
	err        atomic.Pointer[string]
	conn       *gws.Conn
	closed     atomic.Bool
	once       sync.Once
}

func (h *healthySub) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	h.err.CompareAndSwap(nil, &msg)
}

var (
	evPrefix   = []byte(`{"event":"ev","channel":"`)
	dataMarker = []byte(`"data":"`)
)

func (h *healthySub) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	b := m.Bytes()
	switch {
	case bytes.HasPrefix(b, evPrefix):
		rest := b[len(evPrefix):]
		if !bytes.HasPrefix(rest, []byte(h.channel+`"`)) {
			h.fail("event of another channel: %.80s", b)
			return
		}
		i := bytes.Index(b, dataMarker)
		if i < 0 || len(b) < i+len(dataMarker)+6 {
			h.fail("event without data: %.80s", b)
			return
		}
		n, err := strconv.Atoi(string(b[i+len(dataMarker) : i+len(dataMarker)+6]))
		if err != nil {
			h.fail("event data %.80s: %v", b, err)
			return
		}
		if want := h.next.Load(); int64(n) != want {
			h.fail("got event %d, want %d (lost, duplicated or out of order)", n, want)
		}
		h.next.Store(int64(n) + 1)
	case bytes.Contains(b, []byte(`"pusher:connection_established"`)):
		_ = c.WriteString(`{"event":"pusher:subscribe","data":{"channel":"` + h.channel + `"}}`)
	case bytes.Contains(b, []byte(`"pusher_internal:subscription_succeeded"`)):
		h.once.Do(func() { close(h.subscribed) })
	case bytes.Contains(b, []byte(`"pusher:ping"`)):
		_ = c.WriteString(`{"event":"pusher:pong","data":{}}`)
	default:
		h.fail("unexpected frame %.120s", b)
	}
}

func (h *healthySub) OnClose(_ *gws.Conn, err error) {
	h.closed.Store(true)
	h.fail("connection closed: %v", err)
}

// smallRcvBuf shrinks the receive buffer before connecting, so that a peer
// that does not read stalls the server's writes quickly.
func smallRcvBuf(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
	})
	if err != nil {
		return err
	}
	return serr
}

// TestSlowConsumers: 1,000 healthy subscribers on 10 channels and 10
// subscribers of all 10 channels that stop reading. The slow ones exceed
// the outbox (4096 frames / 8 MiB) and are closed and counted; every
// healthy subscriber gets every event of its channel in order; the server's
// memory stays bounded.
func TestSlowConsumers(t *testing.T) {
	s := startPushd(t, "")
	const (
		channels   = 10
		healthyPer = 100
		slowCount  = 10
		pad        = 1000 // bytes of data per event
		minRounds  = 500  // one event per channel per round: 5,000 frames for each slow socket
		maxRounds  = 1500
	)
	rssStart := s.rssMB(t)
	chName := func(i int) string { return "slowtest-" + strconv.Itoa(i) }

	// Healthy subscribers, connected 50 at a time.
	subs := make([]*healthySub, channels*healthyPer)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	errs := make(chan error, len(subs))
	for i := range subs {
		h := &healthySub{channel: chName(i % channels), subscribed: make(chan struct{})}
		subs[i] = h
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			conn, _, err := gws.NewClient(h, &gws.ClientOption{Addr: s.WSURL("app-key") + "?protocol=7", HandshakeTimeout: 10 * time.Second})
			if err != nil {
				errs <- err
				return
			}
			h.conn = conn
			go conn.ReadLoop()
			select {
			case <-h.subscribed:
			case <-time.After(15 * time.Second):
				errs <- fmt.Errorf("subscriber of %s not subscribed within 15s", h.channel)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, h := range subs {
			if h.conn != nil {
				h.conn.WriteClose(1000, nil)
			}
		}
	})

	// Slow subscribers: subscribed to every channel, then never read again.
	slow := make([]*wsPeer, slowCount)
	for i := range slow {
		p := dialPeer(t, &net.Dialer{Control: smallRcvBuf}, s.WSAddr, "/app/app-key?protocol=7")
		p.established()
		for c := 0; c < channels; c++ {
			p.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": chName(c)}})
		}
		for c := 0; c < channels; c++ {
			p.expect("pusher_internal:subscription_succeeded")
		}
		slow[i] = p
	}
	rssConnected := s.rssMB(t)
	slowBefore := s.metric(t, "pushd_slow_consumers_total")

	// Sample the server's RSS while the events flow.
	var peak atomic.Int64
	ctx, stopSampling := context.WithCancel(context.Background())
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if v := int64(s.rssMB(t)); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	defer func() { stopSampling(); <-sampled }()

	// One batch per round: one event of ~1 KB on each channel, numbered per
	// round. Rounds go on until the 10 slow sockets were detected.
	padding := strings.Repeat("p", pad)
	start := time.Now()
	rounds := 0
	for rounds < maxRounds {
		var body strings.Builder
		body.WriteString(`{"batch":[`)
		for c := 0; c < channels; c++ {
			if c > 0 {
				body.WriteByte(',')
			}
			fmt.Fprintf(&body, `{"channel":%q,"name":"ev","data":"%06d|%s"}`, chName(c), rounds, padding)
		}
		body.WriteString(`]}`)
		status, resp := apiCall(t, s, "app-key", "app-secret", http.MethodPost, "/apps/1/batch_events", nil, body.String())
		if status != http.StatusOK {
			t.Fatalf("batch %d: %d %s", rounds, status, resp)
		}
		rounds++
		if rounds >= minRounds && rounds%100 == 0 && s.metric(t, "pushd_slow_consumers_total")-slowBefore >= slowCount {
			break
		}
	}
	triggerTime := time.Since(start)
	t.Logf("triggered %d rounds × %d channels (%d events of ~%d B, %d frames per slow socket) in %s",
		rounds, channels, rounds*channels, pad, rounds*channels, triggerTime.Round(time.Millisecond))

	// Every healthy subscriber receives every event of its channel, in order.
	deadline := time.Now().Add(60 * time.Second)
	for {
		done := 0
		for _, h := range subs {
			if e := h.err.Load(); e != nil {
				t.Fatalf("healthy subscriber of %s: %s", h.channel, *e)
			}
			if h.next.Load() == int64(rounds) {
				done++
			}
		}
		if done == len(subs) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60s only %d of %d healthy subscribers have all %d events", done, len(subs), rounds)
		}
		time.Sleep(50 * time.Millisecond) // polling, bounded by the deadline
	}
	delivered := time.Since(start)

	// The slow sockets were detected, counted and closed.
	deadline = time.Now().Add(15 * time.Second)
	var slowSeen float64
	for {
		slowSeen = s.metric(t, "pushd_slow_consumers_total") - slowBefore
		if slowSeen >= slowCount || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if slowSeen != slowCount {
		t.Fatalf("pushd_slow_consumers_total grew by %v, want %d", slowSeen, slowCount)
	}
	var closeCodes []string
	for i, p := range slow {
		// Reading now drains what the kernel buffered; the server has closed
		// the socket (write deadline) or ends it with close 4100.
		r := p.awaitClose(15 * time.Second)
		switch {
		case r.gotClose:
			closeCodes = append(closeCodes, strconv.Itoa(r.code))
			if r.code != 4100 {
				t.Errorf("slow socket %d closed with %d %q, want 4100", i, r.code, r.reason)
			}
		case isConnEnd(r.tcpEnd):
			closeCodes = append(closeCodes, "tcp")
		default:
			t.Errorf("slow socket %d: %v, want closed by the server", i, r.tcpEnd)
		}
	}
	if n := strings.Count(s.log.String(), "slow consumer disconnected"); n != slowCount {
		t.Errorf("log has %d 'slow consumer disconnected' lines, want %d", n, slowCount)
	}
	// The server forgot the slow sockets: only the healthy ones are open.
	deadline = time.Now().Add(15 * time.Second)
	for {
		n := s.metric(t, "pushd_connections")
		if n == float64(len(subs)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pushd_connections = %v, want %d once the slow sockets are closed", n, len(subs))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, h := range subs {
		if h.closed.Load() {
			t.Fatalf("a healthy subscriber of %s was closed", h.channel)
		}
	}
	stopSampling()
	<-sampled
	rssEnd := s.rssMB(t)
	t.Logf("slow sockets ended with: %s", strings.Join(closeCodes, ","))
	t.Logf("server RSS: start %.0f MB, 1,010 connected %.0f MB, peak %d MB, end %.0f MB; all events delivered %s after the first trigger",
		rssStart, rssConnected, peak.Load(), rssEnd, delivered.Round(time.Millisecond))
	if peak.Load() > 400 || rssEnd > 400 {
		t.Fatalf("server RSS peak %d MB / end %.0f MB, want < 400 MB", peak.Load(), rssEnd)
	}
	checkHealthy(t, s, "slowtest-after")
}
