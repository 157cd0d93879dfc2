package gateway

import (
	"context"
	"testing"
	"time"
)

// TestOutboxWaitRoom: a writer of a long sequence waits while the queue
// (frames being written included) is over its mark, goes on when the
// writer reports progress, and stops when the socket closes.
func TestOutboxWaitRoom(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var o outbox
	o.q, o.bytes = make([][]byte, 6), 600
	o.inflight, o.inflightBytes = 4, 400
	if !o.waitRoom(ctx, 10, 1000) {
		t.Fatal("waitRoom with 10 frames queued and a mark of 10: want room at once")
	}
	done := make(chan bool, 1)
	go func() { done <- o.waitRoom(ctx, 5, 1000) }()
	select {
	case r := <-done:
		t.Fatalf("waitRoom over the mark returned %v before any progress", r)
	case <-time.After(50 * time.Millisecond):
	}
	// The writer finished its batch: 6 frames left.
	o.mu.Lock()
	o.inflight, o.inflightBytes = 0, 0
	o.wakeLocked()
	o.mu.Unlock()
	select {
	case r := <-done:
		t.Fatalf("waitRoom with 6 frames queued and a mark of 5 returned %v", r)
	case <-time.After(50 * time.Millisecond):
	}
	o.mu.Lock()
	o.q = o.q[:5]
	o.wakeLocked()
	o.mu.Unlock()
	select {
	case r := <-done:
		if !r {
			t.Fatal("waitRoom under the mark: got false, want room")
		}
	case <-ctx.Done():
		t.Fatal("waitRoom did not return once the queue was under its mark")
	}
	go func() { done <- o.waitRoom(ctx, 0, 0) }()
	o.shut()
	select {
	case r := <-done:
		if r {
			t.Fatal("waitRoom on a closed socket: got room, want false")
		}
	case <-ctx.Done():
		t.Fatal("waitRoom did not return when the socket closed")
	}
}

// TestReplayBudget: a socket may replay its burst at once; past it a
// resume waits for the budget to refill (and gives up when the socket
// closes meanwhile).
func TestReplayBudget(t *testing.T) {
	var rp replays
	if !rp.spend(context.Background(), replayBurst) {
		t.Fatal("spending the whole burst: want it granted at once")
	}
	closed, cancel := context.WithCancel(context.Background())
	cancel()
	if rp.spend(closed, replayRate) {
		t.Fatal("spending a second's worth more right after the burst: want a wait, ended by the closed socket")
	}
}
