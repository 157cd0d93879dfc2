package gateway

import (
	"bytes"
	"net"
	"sync/atomic"
	"time"
)

// writeTimeout bounds every write to a socket: one that cannot take a
// frame (or a handshake answer) within it is dropped.
const writeTimeout = 10 * time.Second

// deadlineRefresh is how old a write deadline may get before a write sets
// a new one: a busy socket sets it about once a second instead of once a
// frame (a quarter of the cost of a small write), and every write has
// between writeTimeout-deadlineRefresh and writeTimeout.
const deadlineRefresh = time.Second

// wsConn is a connection of the WebSocket port as gws and the handshake
// see it. It caps what the request head may read (headLeft, headLines),
// gives every write a deadline of its own, and uncounts itself from the
// server's sockets when it closes.
//
// A deadline for each write, rather than one set by whoever writes, is
// what keeps gws's own writes (the pong to a ping, the answer to a close)
// from failing on a deadline left over from an earlier write: the socket
// then dropped without a close frame once it had been idle for
// writeTimeout.
type wsConn struct {
	net.Conn
	sockets   *atomic.Int64 // the server's open sockets
	deadline  atomic.Int64  // the write deadline this conn set last (unix ns); 0: none or overridden
	headLeft  int32         // bytes the request head may still read; < 0: no cap
	headLines uint16        // line ends read while the cap is on
	closed    atomic.Bool
}

// newWSConn counts c among the server's sockets until it is closed.
func newWSConn(c net.Conn, sockets *atomic.Int64) *wsConn {
	sockets.Add(1)
	return &wsConn{Conn: c, sockets: sockets, headLeft: maxHeadBytes}
}

// Read reads from the connection, within the head cap while one is set.
func (c *wsConn) Read(p []byte) (int, error) {
	if c.headLeft < 0 {
		return c.Conn.Read(p)
	}
	if c.headLeft == 0 {
		return 0, errHeadTooLarge
	}
	if len(p) > int(c.headLeft) {
		p = p[:c.headLeft]
	}
	n, err := c.Conn.Read(p)
	c.headLeft -= int32(n)
	// Line ends of the head: header lines, the request line and the
	// blank line (readHead uncounts what came after the head in the same
	// read). Past the most, read no more.
	c.headLines += uint16(bytes.Count(p[:n], newline))
	if c.headLines > maxHeadLines+2 {
		c.headLeft = 0
	}
	return n, err
}

var newline = []byte{'\n'}

// Write writes p within writeTimeout (less at most deadlineRefresh) from
// now. gws serialises a socket's writes, so they never race on deadline.
func (c *wsConn) Write(p []byte) (int, error) {
	now := time.Now().UnixNano()
	if d := c.deadline.Load(); d-now < int64(writeTimeout-deadlineRefresh) {
		d = now + int64(writeTimeout)
		if err := c.Conn.SetWriteDeadline(time.Unix(0, d)); err != nil {
			return 0, err
		}
		c.deadline.Store(d)
	}
	return c.Conn.Write(p)
}

// SetDeadline sets the connection's deadlines; the write deadline holds
// until the next write, which sets its own.
func (c *wsConn) SetDeadline(t time.Time) error {
	c.deadline.Store(0)
	return c.Conn.SetDeadline(t)
}

// SetWriteDeadline sets the deadline of a write under way (a slow consumer
// is given little time); it holds until the next write sets its own.
func (c *wsConn) SetWriteDeadline(t time.Time) error {
	c.deadline.Store(0)
	return c.Conn.SetWriteDeadline(t)
}

// Close closes the connection; the first call uncounts it.
func (c *wsConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.sockets.Add(-1)
	}
	return c.Conn.Close()
}
