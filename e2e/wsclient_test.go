package e2e

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/pushd/pushd/internal/gws"
)

// rawClient is a bare WebSocket peer for protocol-level tests: it sends any
// bytes and records every frame and the close code.
type rawClient struct {
	t      *testing.T
	conn   *gws.Conn
	frames chan []byte
	closed chan uint16 // the close code the server sent (0: none)
	reason string      // the close reason; read it after receiving from closed
}

type rawHandler struct {
	gws.BuiltinEventHandler
	c *rawClient
}

func (h rawHandler) OnMessage(_ *gws.Conn, m *gws.Message) {
	defer m.Close()
	b := append([]byte(nil), m.Bytes()...)
	h.c.frames <- b
}

func (h rawHandler) OnClose(_ *gws.Conn, err error) {
	var ce *gws.CloseError
	if errors.As(err, &ce) {
		h.c.reason = string(ce.Reason)
		h.c.closed <- ce.Code
		return
	}
	h.c.closed <- 0
}

// dialRaw connects to url (ws://...) and starts reading.
func dialRaw(t *testing.T, url string) *rawClient {
	t.Helper()
	return dialRawHeader(t, url, nil)
}

// dialRawHeader is dialRaw with extra handshake headers (Origin, ...).
func dialRawHeader(t *testing.T, url string, header http.Header) *rawClient {
	t.Helper()
	c := &rawClient{t: t, frames: make(chan []byte, 1024), closed: make(chan uint16, 1)}
	conn, _, err := gws.NewClient(rawHandler{c: c}, &gws.ClientOption{Addr: url, RequestHeader: header, HandshakeTimeout: 5 * time.Second, ReadMaxPayloadSize: 16 << 20, WriteMaxPayloadSize: 16 << 20})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	c.conn = conn
	go conn.ReadLoop()
	t.Cleanup(func() { conn.WriteClose(1000, nil) })
	return c
}

// frame is a decoded server frame.
type frame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
	UserID  string          `json:"user_id"`
	raw     []byte
}

// dataString returns data as the string it carries (server events carry
// their data as a JSON string).
func (f frame) dataString(t *testing.T) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(f.Data, &s); err != nil {
		t.Fatalf("data of %s is not a JSON string: %s", f.Event, f.Data)
	}
	return s
}

// next returns the next frame, failing after 5 s.
func (c *rawClient) next() frame {
	c.t.Helper()
	return c.nextWithin(5 * time.Second)
}

// nextWithin returns the next frame, failing after d.
func (c *rawClient) nextWithin(d time.Duration) frame {
	c.t.Helper()
	select {
	case b := <-c.frames:
		var f frame
		if err := json.Unmarshal(b, &f); err != nil {
			c.t.Fatalf("server sent invalid JSON %q: %v", b, err)
		}
		f.raw = b
		return f
	case code := <-c.closed:
		// Frames read before the close come first.
		select {
		case b := <-c.frames:
			c.closed <- code
			var f frame
			if err := json.Unmarshal(b, &f); err != nil {
				c.t.Fatalf("server sent invalid JSON %q: %v", b, err)
			}
			f.raw = b
			return f
		default:
		}
		c.t.Fatalf("connection closed (code %d) while waiting for a frame", code)
	case <-time.After(d):
		c.t.Fatalf("no frame within %s", d)
	}
	return frame{}
}

// expect returns the next frame and checks its event name.
func (c *rawClient) expect(event string) frame {
	c.t.Helper()
	f := c.next()
	if f.Event != event {
		c.t.Fatalf("got frame %s, want event %s", f.raw, event)
	}
	return f
}

// expectNothing checks that no frame arrives within d.
func (c *rawClient) expectNothing(d time.Duration) {
	c.t.Helper()
	select {
	case b := <-c.frames:
		c.t.Fatalf("unexpected frame %s", b)
	case <-time.After(d):
	}
}

// expectClose waits for the server's close frame, checks its code and
// returns its reason.
func (c *rawClient) expectClose(code uint16, within time.Duration) string {
	c.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case got := <-c.closed:
			if got != code {
				c.t.Fatalf("closed with code %d, want %d", got, code)
			}
			return c.reason
		case <-c.frames:
		case <-deadline:
			c.t.Fatalf("not closed within %s, want close code %d", within, code)
		}
	}
}

func (c *rawClient) send(s string) {
	c.t.Helper()
	if err := c.conn.WriteString(s); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *rawClient) sendJSON(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.send(string(b))
}

// established reads connection_established and returns the socket id.
func (c *rawClient) established() string {
	c.t.Helper()
	f := c.expect("pusher:connection_established")
	var d struct {
		SocketID        string `json:"socket_id"`
		ActivityTimeout int    `json:"activity_timeout"`
	}
	if err := json.Unmarshal([]byte(f.dataString(c.t)), &d); err != nil {
		c.t.Fatalf("connection_established data: %v", err)
	}
	return d.SocketID
}

// errorCode decodes a pusher:error frame's code.
func errorCode(t *testing.T, f frame) int {
	t.Helper()
	var d struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(f.Data, &d); err != nil {
		t.Fatalf("pusher:error data %s: %v", f.Data, err)
	}
	return d.Code
}
