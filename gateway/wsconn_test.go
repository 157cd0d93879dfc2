package gateway

import (
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// TestWSConnCountsSockets: a socket counts from its creation until its
// first Close, however often it is closed.
func TestWSConnCountsSockets(t *testing.T) {
	var n atomic.Int64
	a, b := net.Pipe()
	c, d := newWSConn(a, &n), newWSConn(b, &n)
	if n.Load() != 2 {
		t.Fatalf("%d sockets counted, want 2", n.Load())
	}
	_ = c.Close()
	_ = c.Close()
	if n.Load() != 1 {
		t.Fatalf("%d sockets counted after one closed twice, want 1", n.Load())
	}
	_ = d.Close()
	if n.Load() != 0 {
		t.Fatalf("%d sockets counted after both closed, want 0", n.Load())
	}
}

// TestWSConnWriteDeadline: every write gets a deadline of its own; one that
// others set, even one already past, holds only until the next write.
func TestWSConnWriteDeadline(t *testing.T) {
	var n atomic.Int64
	a, b := net.Pipe()
	defer b.Close()
	go func() { _, _ = io.Copy(io.Discard, b) }()
	c := newWSConn(a, &n)
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
