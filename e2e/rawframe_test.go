package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// WebSocket opcodes (RFC 6455 §5.2).
const (
	opCont   byte = 0x0
	opText   byte = 0x1
	opBinary byte = 0x2
	opClose  byte = 0x8
	opPing   byte = 0x9
	opPong   byte = 0xA
)

// Length encodings of a frame header: the smallest that fits, or forced.
const (
	lenAuto = 0
	len7    = 7
	len16   = 16
	len64   = 64
)

// wireFrame describes one frame to put on the wire, bit by bit.
type wireFrame struct {
	fin      bool
	rsv      byte // the three RSV bits, 0..7 (RSV1 = 4)
	op       byte
	payload  []byte
	unmasked bool   // a client frame without the mask bit (a protocol error)
	lenForm  int    // lenAuto, len7, len16 or len64
	lenValue uint64 // when non-zero: the length written in the header, whatever the payload
}

// bytes encodes the frame as a client sends it.
func (f wireFrame) bytes() []byte {
	var b []byte
	h := f.op & 0x0F
	if f.fin {
		h |= 0x80
	}
	h |= (f.rsv & 7) << 4
	b = append(b, h)
	n := uint64(len(f.payload))
	if f.lenValue != 0 {
		n = f.lenValue
	}
	form := f.lenForm
	if form == lenAuto {
		switch {
		case n <= 125:
			form = len7
		case n <= 0xFFFF:
			form = len16
		default:
			form = len64
		}
	}
	var m byte
	if !f.unmasked {
		m = 0x80
	}
	switch form {
	case len7:
		b = append(b, m|byte(n))
	case len16:
		b = append(b, m|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, n)
	}
	if f.unmasked {
		return append(b, f.payload...)
	}
	var key [4]byte
	_, _ = rand.Read(key[:])
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, f.payload...)
	for i := range f.payload {
		b[start+i] ^= key[i%4]
	}
	return b
}

// Shorthands for common frames.
func textFrame(s string) wireFrame { return wireFrame{fin: true, op: opText, payload: []byte(s)} }
func closeFrame(code int, reason string) wireFrame {
	p := binary.BigEndian.AppendUint16(nil, uint16(code))
	return wireFrame{fin: true, op: opClose, payload: append(p, reason...)}
}

// serverFrame is one frame the server sent.
type serverFrame struct {
	fin     bool
	rsv     byte
	op      byte
	masked  bool
	payload []byte
}

// closeCode returns the status code of a close frame (0 when it has none).
func (f serverFrame) closeCode() int {
	if len(f.payload) < 2 {
		return 0
	}
	return int(binary.BigEndian.Uint16(f.payload))
}

// wsPeer is a WebSocket client built by hand on a plain TCP connection: it
// writes any bytes and parses every frame the server sends. It records
// everything it reads so that tests can search it (for leaked secrets).
type wsPeer struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	wmu  sync.Mutex

	recMu sync.Mutex
	rec   bytes.Buffer
}

// recorder tees what the connection reads into the peer's record.
type recorder struct{ p *wsPeer }

func (r recorder) Read(b []byte) (int, error) {
	n, err := r.p.conn.Read(b)
	if n > 0 {
		r.p.recMu.Lock()
		r.p.rec.Write(b[:n])
		r.p.recMu.Unlock()
	}
	return n, err
}

// received returns a copy of every byte read so far (HTTP response included).
func (p *wsPeer) received() []byte {
	p.recMu.Lock()
	defer p.recMu.Unlock()
	return append([]byte(nil), p.rec.Bytes()...)
}

// wsAccept computes Sec-WebSocket-Accept for a key (RFC 6455 §4.2.2).
func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// dialPeer connects to addr with d (nil: a default dialer), sends the HTTP
// upgrade for path and checks the 101 answer.
func dialPeer(t *testing.T, d *net.Dialer, addr, path string) *wsPeer {
	t.Helper()
	p, err := tryDialPeer(d, addr, path)
	if err != nil {
		t.Fatalf("websocket upgrade %s%s: %v", addr, path, err)
	}
	p.t = t
	t.Cleanup(func() { p.conn.Close() })
	return p
}

func tryDialPeer(d *net.Dialer, addr, path string) (*wsPeer, error) {
	if d == nil {
		d = &net.Dialer{}
	}
	d.Timeout = 5 * time.Second
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &wsPeer{conn: conn}
	p.br = bufio.NewReaderSize(recorder{p}, 64<<10)
	var k [16]byte
	_, _ = rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(p.br, nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("read upgrade response: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != wsAccept(key) {
		conn.Close()
		return nil, fmt.Errorf("upgrade answered %s (accept %q)", resp.Status, resp.Header.Get("Sec-WebSocket-Accept"))
	}
	_ = conn.SetDeadline(time.Time{})
	return p, nil
}

// write puts raw bytes on the wire. Errors are returned, not fatal: the
// server may already have closed the connection.
func (p *wsPeer) write(b []byte) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	_ = p.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := p.conn.Write(b)
	return err
}

// send writes frames in one write.
func (p *wsPeer) send(frames ...wireFrame) error {
	var b []byte
	for _, f := range frames {
		b = append(b, f.bytes()...)
	}
	return p.write(b)
}

// mustSend writes frames and fails the test on an error.
func (p *wsPeer) mustSend(frames ...wireFrame) {
	p.t.Helper()
	if err := p.send(frames...); err != nil {
		p.t.Fatalf("write: %v", err)
	}
}

// sendJSON sends v as one masked text frame.
func (p *wsPeer) sendJSON(v any) {
	p.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mustSend(textFrame(string(b)))
}

// readFrame reads one server frame within d.
func (p *wsPeer) readFrame(d time.Duration) (serverFrame, error) {
	_ = p.conn.SetReadDeadline(time.Now().Add(d))
	var h [2]byte
	if _, err := io.ReadFull(p.br, h[:]); err != nil {
		return serverFrame{}, err
	}
	f := serverFrame{fin: h[0]&0x80 != 0, rsv: (h[0] >> 4) & 7, op: h[0] & 0x0F, masked: h[1]&0x80 != 0}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var e [2]byte
		if _, err := io.ReadFull(p.br, e[:]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(e[:]))
	case 127:
		var e [8]byte
		if _, err := io.ReadFull(p.br, e[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(e[:])
	}
	if n > 16<<20 {
		return f, fmt.Errorf("server frame of %d bytes", n)
	}
	var key [4]byte
	if f.masked {
		if _, err := io.ReadFull(p.br, key[:]); err != nil {
			return f, err
		}
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(p.br, f.payload); err != nil {
		return f, err
	}
	if f.masked {
		for i := range f.payload {
			f.payload[i] ^= key[i%4]
		}
	}
	return f, nil
}

// nextText returns the payload of the next text frame, answering nothing
// and skipping pongs; it fails on a close, an error or after d.
func (p *wsPeer) nextText(d time.Duration) []byte {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		f, err := p.readFrame(time.Until(deadline))
		if err != nil {
			p.t.Fatalf("waiting for a text frame: %v", err)
		}
		p.checkServerFrame(f)
		switch f.op {
		case opText:
			return f.payload
		case opClose:
			p.t.Fatalf("closed with %d %q while waiting for a text frame", f.closeCode(), f.payload)
		}
	}
}

// checkServerFrame fails on what a server must never send.
func (p *wsPeer) checkServerFrame(f serverFrame) {
	p.t.Helper()
	if f.masked || f.rsv != 0 || !f.fin && f.op >= 8 {
		p.t.Fatalf("server sent an invalid frame: masked=%v rsv=%d fin=%v op=%d", f.masked, f.rsv, f.fin, f.op)
	}
}

// next returns the next text frame decoded as a Pusher frame.
func (p *wsPeer) next(d time.Duration) frame {
	p.t.Helper()
	b := p.nextText(d)
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		p.t.Fatalf("server sent invalid JSON %q: %v", b, err)
	}
	f.raw = b
	return f
}

// expect returns the next Pusher frame and checks its event name.
func (p *wsPeer) expect(event string) frame {
	p.t.Helper()
	f := p.next(5 * time.Second)
	if f.Event != event {
		p.t.Fatalf("got %s, want event %s", f.raw, event)
	}
	return f
}

// established reads pusher:connection_established and returns the socket id.
func (p *wsPeer) established() string {
	p.t.Helper()
	f := p.expect("pusher:connection_established")
	var d struct {
		SocketID string `json:"socket_id"`
	}
	if err := json.Unmarshal([]byte(f.dataString(p.t)), &d); err != nil || d.SocketID == "" {
		p.t.Fatalf("connection_established %s: %v", f.raw, err)
	}
	return d.SocketID
}

// closeResult is how a connection ended.
type closeResult struct {
	gotClose bool   // a close frame arrived
	code     int    // its status code (0: none)
	reason   string // its reason
	tcpEnd   error  // what the read after the close frame returned (io.EOF: a clean TCP close)
	frames   []serverFrame
}

// awaitClose reads until a close frame, then until the TCP connection ends,
// all within d. Text frames before the close are kept in frames.
func (p *wsPeer) awaitClose(d time.Duration) closeResult {
	p.t.Helper()
	deadline := time.Now().Add(d)
	var r closeResult
	for {
		f, err := p.readFrame(time.Until(deadline))
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				p.t.Fatalf("connection neither closed nor answered within %s (frames so far: %d)", d, len(r.frames))
			}
			r.tcpEnd = err
			return r
		}
		p.checkServerFrame(f)
		if f.op == opClose {
			r.gotClose, r.code = true, f.closeCode()
			if len(f.payload) > 2 {
				r.reason = string(f.payload[2:])
			}
			// After its close frame the server must close the TCP connection.
			_ = p.conn.SetReadDeadline(deadline)
			var one [1]byte
			_, r.tcpEnd = p.br.Read(one[:])
			if r.tcpEnd == nil {
				r.tcpEnd = errors.New("data after the close frame")
			}
			if ne, ok := r.tcpEnd.(net.Error); ok && ne.Timeout() {
				p.t.Fatalf("TCP connection still open %s after the server's close frame", d)
			}
			return r
		}
		r.frames = append(r.frames, f)
	}
}

// expectClose checks that the server closes with code, then ends the TCP
// connection.
func (p *wsPeer) expectClose(code int, d time.Duration) closeResult {
	p.t.Helper()
	r := p.awaitClose(d)
	if !r.gotClose {
		p.t.Fatalf("connection ended (%v) without a close frame, want close %d", r.tcpEnd, code)
	}
	if r.code != code {
		p.t.Fatalf("closed with %d %q, want %d", r.code, r.reason, code)
	}
	if !isConnEnd(r.tcpEnd) {
		p.t.Fatalf("after the close frame: %v, want the TCP connection closed", r.tcpEnd)
	}
	return r
}

// isConnEnd reports a read error that means the peer closed the connection.
func isConnEnd(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "connection reset") || strings.Contains(s, "broken pipe")
}

// waitConnEnd reads (and discards) until the peer closes conn, within d, and
// returns how long that took.
func waitConnEnd(conn net.Conn, d time.Duration) (time.Duration, error) {
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(d))
	buf := make([]byte, 32<<10)
	for {
		_, err := conn.Read(buf)
		if err != nil {
			if isConnEnd(err) {
				return time.Since(start), nil
			}
			return time.Since(start), err
		}
	}
}

var vmRSS = regexp.MustCompile(`(?m)^VmRSS:\s+(\d+) kB`)

// rssMB returns the resident set size of the server process in MB.
func (s *server) rssMB(t *testing.T) float64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/status")
	if err != nil {
		t.Errorf("read server status: %v", err) // may run off the test goroutine
		return 0
	}
	m := vmRSS.FindSubmatch(b)
	if m == nil {
		t.Errorf("no VmRSS in /proc/%d/status", s.cmd.Process.Pid)
		return 0
	}
	kb, _ := strconv.ParseFloat(string(m[1]), 64)
	return kb / 1024
}

// metric returns the sum of a Prometheus series over all its labels (0 when
// absent) from the server's /metrics.
func (s *server) metric(t *testing.T, name string) float64 {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(s.APIURL() + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var sum float64
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || rest[0] != '{' && rest[0] != ' ' {
			continue
		}
		if i := strings.LastIndexByte(rest, ' '); i >= 0 {
			v, err := strconv.ParseFloat(rest[i+1:], 64)
			if err == nil {
				sum += v
			}
		}
	}
	return sum
}

// checkHealthy proves the server still serves: a fresh client subscribes
// and receives an event triggered through the API.
func checkHealthy(t *testing.T, s *server, channel string) {
	t.Helper()
	select {
	case <-s.done:
		t.Fatalf("pushd exited:\n%s", lastBytes(s.log.String(), 4000))
	default:
	}
	c := dialRaw(t, s.WSURL("app-key")+"?protocol=7")
	c.established()
	c.send(`{"event":"pusher:subscribe","data":{"channel":"` + channel + `"}}`)
	c.expect("pusher_internal:subscription_succeeded")
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"health","channel":"`+channel+`","data":"ok"}`)
	if f := c.expect("health"); f.dataString(t) != "ok" {
		t.Fatalf("health event %s", f.raw)
	}
}

// lastBytes returns the end of s, at most n bytes.
func lastBytes(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
