//go:build !js

package wasmclient

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/pushd/pushd/internal/gws"
)

func defaultTransport() Transport { return GWSTransport{} }

// GWSTransport is the native Transport, on lxzan/gws.
type GWSTransport struct {
	// ReadMaxPayload bounds a received frame (default 1 MiB).
	ReadMaxPayload int
}

// Dial connects with gws and reads on a goroutine of its own.
func (t GWSTransport) Dial(ctx context.Context, url string, onMessage func([]byte), onClose func(int, string)) (Conn, error) {
	max := t.ReadMaxPayload
	if max <= 0 {
		max = 1 << 20
	}
	timeout := 10 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	h := &gwsHandler{onMessage: onMessage, onClose: onClose}
	conn, _, err := gws.NewClient(h, &gws.ClientOption{
		Addr:               url,
		HandshakeTimeout:   timeout,
		ReadMaxPayloadSize: max,
		NewDialer:          func() (gws.Dialer, error) { return &net.Dialer{Timeout: timeout}, nil },
	})
	if err != nil {
		return nil, err
	}
	go conn.ReadLoop()
	return &gwsConn{conn: conn}, nil
}

type gwsHandler struct {
	gws.BuiltinEventHandler
	onMessage func([]byte)
	onClose   func(int, string)
	once      sync.Once
}

func (h *gwsHandler) OnMessage(_ *gws.Conn, m *gws.Message) {
	b := append([]byte(nil), m.Bytes()...)
	m.Close()
	h.onMessage(b)
}

func (h *gwsHandler) OnClose(_ *gws.Conn, err error) {
	h.once.Do(func() {
		var ce *gws.CloseError
		if errors.As(err, &ce) {
			h.onClose(int(ce.Code), string(ce.Reason))
			return
		}
		reason := ""
		if err != nil {
			reason = err.Error()
		}
		h.onClose(codeAbnormal, reason)
	})
}

type gwsConn struct{ conn *gws.Conn }

func (c *gwsConn) Send(frame []byte) error { return c.conn.WriteMessage(gws.OpcodeText, frame) }

// Close sends a close frame and drops the TCP connection without waiting
// for the peer, which may be gone.
func (c *gwsConn) Close(code int, reason string) error {
	err := c.conn.WriteClose(uint16(code), []byte(reason))
	c.conn.NetConn().Close()
	return err
}
