package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
)

// pump reads p's frames on its own goroutine and hands every text payload
// to onText until onText returns true (done). The result arrives on the
// returned channel: nil when done, else what ended the reading (a close
// frame, an error, or the timeout d).
func (p *wsPeer) pump(d time.Duration, onText func([]byte) bool) <-chan error {
	res := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(d)
		for {
			f, err := p.readFrame(time.Until(deadline))
			if err != nil {
				res <- err
				return
			}
			switch f.op {
			case opText:
				if onText(f.payload) {
					res <- nil
					return
				}
			case opClose:
				res <- fmt.Errorf("server closed with %d %q", f.closeCode(), f.payload[min(2, len(f.payload)):])
				return
			}
		}
	}()
	return res
}

// sendMany writes frames in writes of up to 256 frames, as fast as the
// socket takes them.
func (p *wsPeer) sendMany(n int, frameOf func(i int) wireFrame) error {
	var buf []byte
	for i := 0; i < n; i++ {
		buf = append(buf, frameOf(i).bytes()...)
		if (i+1)%256 == 0 || i == n-1 {
			if err := p.write(buf); err != nil {
				return fmt.Errorf("after %d frames: %w", i+1, err)
			}
			buf = buf[:0]
		}
	}
	return nil
}

// subscribePrivate subscribes p (socket sid) to a private channel of app-key.
func (p *wsPeer) subscribePrivate(sid, ch string) {
	p.t.Helper()
	p.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{
		"channel": ch, "auth": protocol.ChannelAuth("app-key", "app-secret", sid, ch, "")}})
	if f := p.expect("pusher_internal:subscription_succeeded"); f.Channel != ch {
		p.t.Fatalf("subscribed %s, want %s", f.Channel, ch)
	}
}

func TestFlood(t *testing.T) {
	s := startPushd(t, "")
	wsPath := "/app/app-key?protocol=7"
	rssStart := s.rssMB(t)
	t.Logf("server RSS at start: %.0f MB", rssStart)

	t.Run("10,000 frames from one socket", func(t *testing.T) {
		const ch = "private-flood"
		recv := dialPeer(t, nil, s.WSAddr, wsPath)
		recv.subscribePrivate(recv.established(), ch)
		observer := dialRaw(t, s.WSURL("app-key")+"?protocol=7")
		observer.established()
		observer.send(`{"event":"pusher:subscribe","data":{"channel":"flood-observer"}}`)
		observer.expect("pusher_internal:subscription_succeeded")

		fl := dialPeer(t, nil, s.WSAddr, wsPath)
		fl.subscribePrivate(fl.established(), ch)
		const total = 10000 // odd indexes: pusher:ping (the last frame is one), even: client events
		var pongs, limited, other atomic.Int64
		var firstOther atomic.Pointer[string]
		done := fl.pump(30*time.Second, func(b []byte) bool {
			switch {
			case bytes.Contains(b, []byte(`"pusher:pong"`)):
				return pongs.Add(1) == total/2
			case bytes.Contains(b, []byte(`"code":4301`)):
				limited.Add(1)
			default:
				other.Add(1)
				s := string(b)
				firstOther.CompareAndSwap(nil, &s)
			}
			return false
		})
		start := time.Now()
		werr := make(chan error, 1)
		go func() {
			werr <- fl.sendMany(total, func(i int) wireFrame {
				if i%2 == 1 {
					return textFrame(`{"event":"pusher:ping","data":{}}`)
				}
				return textFrame(`{"event":"client-flood","channel":"` + ch + `","data":"` + strconv.Itoa(i) + `"}`)
			})
		}()
		// Meanwhile an honest client is served.
		trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"during","channel":"flood-observer","data":"x"}`)
		observer.expect("during")
		if err := <-werr; err != nil {
			t.Fatalf("flood write: %v", err)
		}
		sent := time.Since(start)
		if err := <-done; err != nil {
			t.Fatalf("flooder: %v after %d pongs, %d rate-limit errors", err, pongs.Load(), limited.Load())
		}
		elapsed := time.Since(start)
		if o := firstOther.Load(); o != nil {
			t.Fatalf("flooder got %d unexpected frames, first: %s", other.Load(), *o)
		}
		accepted := int(total/2 - limited.Load())
		t.Logf("%d frames written in %s, all answered in %s: %d pongs, %d client events accepted, %d refused with 4301",
			total, sent.Round(time.Millisecond), elapsed.Round(time.Millisecond), pongs.Load(), accepted, limited.Load())
		// 10 per second with a burst of 10.
		if most := 10 + int(10*elapsed.Seconds()) + 1; limited.Load() == 0 || accepted > most || accepted < 10 {
			t.Fatalf("%d client events accepted in %s, want between 10 and %d (rate limit 10/s)", accepted, elapsed, most)
		}
		// The receiver gets exactly the accepted events, then nothing else:
		// the next frame after them is an API event.
		for i := 0; i < accepted; i++ {
			if f := recv.next(10 * time.Second); f.Event != "client-flood" {
				t.Fatalf("receiver: got %s after %d client events, want client-flood", f.raw, i)
			}
		}
		trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"after","channel":"`+ch+`","data":"x"}`)
		if f := recv.next(10 * time.Second); f.Event != "after" {
			t.Fatalf("receiver: got %s, want the API event after exactly %d client events", f.raw, accepted)
		}
		if n := s.metric(t, "pushd_rejected_total"); n < float64(limited.Load()) {
			t.Errorf("pushd_rejected_total = %v, want at least %d", n, limited.Load())
		}
		// The flooder is still served (it gets the API event too).
		fl.mustSend(textFrame(`{"event":"pusher:ping","data":{}}`))
		if f := fl.next(5 * time.Second); f.Event == "after" {
			fl.expect("pusher:pong")
		} else if f.Event != "pusher:pong" {
			t.Fatalf("flooder: got %s, want pusher:pong", f.raw)
		}
	})

	t.Run("subscribe/unsubscribe storm", func(t *testing.T) {
		const cycles, chans = 5000, 50
		p := dialPeer(t, nil, s.WSAddr, wsPath)
		p.established()
		subsBefore := s.metric(t, "pushd_subscriptions")
		var succeeded, other atomic.Int64
		var firstOther atomic.Pointer[string]
		done := p.pump(30*time.Second, func(b []byte) bool {
			switch {
			case bytes.Contains(b, []byte(`"pusher:pong"`)):
				return true
			case bytes.Contains(b, []byte(`"pusher_internal:subscription_succeeded"`)):
				succeeded.Add(1)
			default:
				other.Add(1)
				s := string(b)
				firstOther.CompareAndSwap(nil, &s)
			}
			return false
		})
		start := time.Now()
		err := p.sendMany(2*cycles+1, func(i int) wireFrame {
			if i == 2*cycles {
				return textFrame(`{"event":"pusher:ping","data":{}}`)
			}
			ev := "pusher:subscribe"
			if i%2 == 1 {
				ev = "pusher:unsubscribe"
			}
			return textFrame(`{"event":"` + ev + `","data":{"channel":"storm-` + strconv.Itoa(i/2%chans) + `"}}`)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("storm: %v after %d subscriptions", err, succeeded.Load())
		}
		t.Logf("%d subscribe/unsubscribe cycles over %d channels in %s", cycles, chans, time.Since(start).Round(time.Millisecond))
		if succeeded.Load() != cycles || other.Load() != 0 {
			first := ""
			if f := firstOther.Load(); f != nil {
				first = *f
			}
			t.Fatalf("%d subscription_succeeded and %d other frames (first: %s), want %d and 0", succeeded.Load(), other.Load(), first, cycles)
		}
		// With the socket still open, no storm channel is occupied.
		waitNoChannels(t, s, "storm-")
		// At most the baseline: an earlier subtest's socket may still have
		// been closing when it was read; the storm must add nothing.
		if n := s.metric(t, "pushd_subscriptions"); n > subsBefore {
			t.Fatalf("pushd_subscriptions = %v after the storm, want at most %v", n, subsBefore)
		}
	})

	t.Run("100,000 distinct channels from one socket", func(t *testing.T) {
		const n, limit = 100000, 1000 // limit: max_channels_per_socket
		rssBefore := s.rssMB(t)
		p := dialPeer(t, nil, s.WSAddr, wsPath)
		p.established()
		var succeeded, limited, other atomic.Int64
		var firstOther atomic.Pointer[string]
		done := p.pump(60*time.Second, func(b []byte) bool {
			switch {
			case bytes.Contains(b, []byte(`"pusher:pong"`)):
				return true
			case bytes.Contains(b, []byte(`"pusher_internal:subscription_succeeded"`)):
				succeeded.Add(1)
			case bytes.Contains(b, []byte(`\"type\":\"LimitReached\"`)) && bytes.Contains(b, []byte(`\"status\":429`)): // data is a JSON string
				limited.Add(1)
			default:
				other.Add(1)
				s := string(b)
				firstOther.CompareAndSwap(nil, &s)
			}
			return false
		})
		start := time.Now()
		err := p.sendMany(n+1, func(i int) wireFrame {
			if i == n {
				return textFrame(`{"event":"pusher:ping","data":{}}`)
			}
			return textFrame(`{"event":"pusher:subscribe","data":{"channel":"many-` + strconv.Itoa(i) + `"}}`)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("%v after %d succeeded, %d LimitReached", err, succeeded.Load(), limited.Load())
		}
		rssAfter := s.rssMB(t)
		t.Logf("%d subscribe frames answered in %s: %d succeeded, %d LimitReached; server RSS %.0f → %.0f MB",
			n, time.Since(start).Round(time.Millisecond), succeeded.Load(), limited.Load(), rssBefore, rssAfter)
		if f := firstOther.Load(); f != nil {
			t.Fatalf("%d unexpected frames, first: %s", other.Load(), *f)
		}
		if succeeded.Load() != limit || limited.Load() != n-limit {
			t.Fatalf("%d succeeded and %d LimitReached, want %d and %d", succeeded.Load(), limited.Load(), limit, n-limit)
		}
		if rssAfter > 400 || rssAfter-rssBefore > 200 {
			t.Fatalf("server RSS %.0f → %.0f MB, want bounded (< 400 MB, growth < 200 MB)", rssBefore, rssAfter)
		}
		p.mustSend(closeFrame(1000, ""))
		p.expectClose(1000, 10*time.Second)
		waitNoChannels(t, s, "many-")
		checkHealthy(t, s, "after-many")
	})

	t.Run("100 MB API body", func(t *testing.T) {
		for _, chunked := range []bool{false, true} {
			t.Run("chunked="+strconv.FormatBool(chunked), func(t *testing.T) {
				rssBefore := s.rssMB(t)
				status, took, sentMB := postHuge(t, s.APIAddr, 100<<20, chunked)
				rssAfter := s.rssMB(t)
				t.Logf("answered %d after %s, %.1f MB of the 100 MB sent; server RSS %.0f → %.0f MB",
					status, took.Round(time.Millisecond), sentMB, rssBefore, rssAfter)
				if status != http.StatusRequestEntityTooLarge {
					t.Fatalf("status %d, want 413", status)
				}
				if took > 5*time.Second {
					t.Fatalf("413 after %s, want it quickly", took)
				}
				if rssAfter-rssBefore > 50 {
					t.Fatalf("server RSS grew %.0f → %.0f MB on a 100 MB body", rssBefore, rssAfter)
				}
			})
		}
		checkHealthy(t, s, "after-huge-body")
	})

	t.Run("slowloris and idle connections", func(t *testing.T) {
		t.Run("API headers at 1 byte/s", func(t *testing.T) {
			t.Parallel()
			var wg sync.WaitGroup
			took := make([]time.Duration, 10)
			errs := make([]error, 10)
			for i := range took {
				wg.Add(1)
				go func() {
					defer wg.Done()
					took[i], errs[i] = slowloris(s.APIAddr, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", 15*time.Second)
				}()
			}
			// Honest requests are served meanwhile, promptly.
			served := 0
			c := &http.Client{Timeout: 5 * time.Second}
			for ; served < 5; served++ {
				resp, err := c.Get(s.APIURL() + "/healthz")
				if err != nil {
					t.Fatalf("healthz during slowloris: %v", err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("healthz during slowloris: %d", resp.StatusCode)
				}
				trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"e","channel":"loris","data":"x"}`)
			}
			wg.Wait()
			checkClosedAround(t, "API slowloris", took, errs, 10*time.Second)
		})
		t.Run("WebSocket upgrade at 1 byte/s", func(t *testing.T) {
			t.Parallel()
			var wg sync.WaitGroup
			took := make([]time.Duration, 10)
			errs := make([]error, 10)
			for i := range took {
				wg.Add(1)
				go func() {
					defer wg.Done()
					took[i], errs[i] = slowloris(s.WSAddr, "GET /app/app-key?protocol=7 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nX-Slow: ", 15*time.Second)
				}()
			}
			checkHealthy(t, s, "loris-ws")
			wg.Wait()
			checkClosedAround(t, "WebSocket slowloris", took, errs, 10*time.Second)
		})
		t.Run("500 idle TCP connections", func(t *testing.T) {
			t.Parallel()
			const n = 500
			conns := make([]net.Conn, 0, n)
			dialed := make([]time.Time, 0, n)
			t.Cleanup(func() {
				for _, c := range conns {
					c.Close()
				}
			})
			for i := 0; i < n; i++ {
				c, err := net.DialTimeout("tcp", s.WSAddr, 5*time.Second)
				if err != nil {
					t.Fatalf("connect %d: %v", i, err)
				}
				conns = append(conns, c)
				dialed = append(dialed, time.Now())
			}
			checkHealthy(t, s, "idle-ws")
			took := make([]time.Duration, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i, c := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = waitConnEnd(c, 15*time.Second)
					took[i] = time.Since(dialed[i])
				}()
			}
			wg.Wait()
			checkClosedAround(t, "idle connections", took, errs, 10*time.Second)
		})
	})
	checkHealthy(t, s, "flood-end")
	t.Logf("server RSS at the end: %.0f MB", s.rssMB(t))
}

// waitNoChannels waits (bounded) until the API lists no occupied channel
// with the prefix.
func waitNoChannels(t *testing.T, s *server, prefix string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body := apiCall(t, s, "app-key", "app-secret", http.MethodGet, "/apps/1/channels",
			url.Values{"filter_by_prefix": {prefix}}, "")
		if status == http.StatusOK && strings.TrimSpace(body) == `{"channels":{}}` {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("channels with prefix %s after 10s: %d %.300s, want none occupied", prefix, status, body)
		}
		time.Sleep(100 * time.Millisecond) // polling, bounded by the deadline
	}
}

// zeros is an endless generator of request body bytes.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// postHuge sends a POST whose body of size bytes is generated as it is
// written (never held in memory) and returns the answer's status, how long
// it took from the first byte and how many MB were written before it came.
func postHuge(t *testing.T, addr string, size int64, chunked bool) (int, time.Duration, float64) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A known key makes the server read the body; the signature is never
	// checked because the body is refused first.
	q := url.Values{"auth_key": {"app-key"}, "auth_timestamp": {strconv.FormatInt(time.Now().Unix(), 10)},
		"auth_version": {"1.0"}, "body_md5": {"0"}, "auth_signature": {"0"}}
	head := "POST /apps/1/events?" + q.Encode() + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	if chunked {
		head += "Transfer-Encoding: chunked\r\n\r\n"
	} else {
		head += "Content-Length: " + strconv.FormatInt(size, 10) + "\r\n\r\n"
	}
	start := time.Now()
	_ = conn.SetDeadline(start.Add(15 * time.Second))
	var written atomic.Int64
	go func() {
		w := bufio.NewWriterSize(conn, 64<<10)
		if _, err := w.WriteString(head); err != nil {
			return
		}
		body := io.LimitReader(zeros{}, size)
		buf := make([]byte, 32<<10)
		for {
			n, err := body.Read(buf)
			if n > 0 {
				var werr error
				if chunked {
					_, werr = fmt.Fprintf(w, "%x\r\n%s\r\n", n, buf[:n])
				} else {
					_, werr = w.Write(buf[:n])
				}
				if werr != nil {
					return // the server closed: expected once it refused
				}
				written.Add(int64(n))
			}
			if err != nil {
				if chunked {
					_, _ = w.WriteString("0\r\n\r\n")
				}
				_ = w.Flush()
				return
			}
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response after %s (%d bytes sent): %v", time.Since(start), written.Load(), err)
	}
	resp.Body.Close()
	return resp.StatusCode, time.Since(start), float64(written.Load()) / (1 << 20)
}

// slowloris sends head, then one byte a second, and returns how long after
// the connect the server ended the connection.
func slowloris(addr, head string, max time.Duration) (time.Duration, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	start := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		if _, err := io.WriteString(conn, head); err != nil {
			return
		}
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte{'a'}); err != nil {
					return
				}
			}
		}
	}()
	_, err = waitConnEnd(conn, max)
	return time.Since(start), err
}

// checkClosedAround checks that every connection was ended by the server,
// close to want (the server's timeout).
func checkClosedAround(t *testing.T, what string, took []time.Duration, errs []error, want time.Duration) {
	t.Helper()
	lo, hi := took[0], took[0]
	for i, d := range took {
		if errs[i] != nil {
			t.Fatalf("%s: connection %d not closed by the server: %v (after %s)", what, i, errs[i], d)
		}
		lo, hi = min(lo, d), max(hi, d)
	}
	t.Logf("%s: %d connections closed by the server after %s … %s", what, len(took), lo.Round(10*time.Millisecond), hi.Round(10*time.Millisecond))
	if lo < want-2*time.Second || hi > want+4*time.Second {
		t.Fatalf("%s: closed after %s … %s, want about %s", what, lo, hi, want)
	}
}
