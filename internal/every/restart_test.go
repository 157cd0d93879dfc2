package every

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

// Restart starts run again after each stop, with again before each new
// start, records the stop in health, and returns once ctx ends.
func TestRestartAfterEachStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var health atomic.Pointer[error]
	var starts []bool
	agains := 0
	stop := errors.New("watcher lost")
	done := make(chan struct{})
	go func() {
		defer close(done)
		Restart(ctx, slog.New(slog.DiscardHandler), "test", &health, func(first bool) error {
			starts = append(starts, first)
			if len(starts) < 3 {
				return stop
			}
			if e := health.Load(); e == nil || !errors.Is(*e, stop) {
				t.Errorf("health after a stop: %v, want %v", e, stop)
			}
			cancel()
			return errors.New("ended by ctx")
		}, func(context.Context) error {
			agains++
			return errors.New("again failed: run starts anyway")
		})
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Restart did not return after ctx ended")
	}
	if len(starts) != 3 || !starts[0] || starts[1] || starts[2] {
		t.Fatalf("starts (first flags) %v, want [true false false]", starts)
	}
	if agains != 2 {
		t.Fatalf("again called %d times, want 2 (once before each restart)", agains)
	}
}
