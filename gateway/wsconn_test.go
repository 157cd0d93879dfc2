package gateway

import (
	"io"
	"net"
	"testing"
	"time"
)

// TestWSConnWriteDeadline: every write gets a deadline of its own; one that
// others set, even one already past, holds only until the next write.
func TestWSConnWriteDeadline(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	go func() { _, _ = io.Copy(io.Discard, b) }()
	c := &wsConn{Conn: a}
	defer c.Close()
	if _, err := c.Write([]byte("one")); err != nil {
		t.Fatalf("first write: %v", err)
	}
	for _, set := range []func(time.Time) error{c.SetWriteDeadline, c.SetDeadline} {
		if err := set(time.Now().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("two")); err != nil {
			t.Fatalf("a write after a past deadline was set: %v, want it written with a fresh deadline", err)
		}
	}
}
