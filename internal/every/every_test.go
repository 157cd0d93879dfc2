package every

import (
	"context"
	"testing"
	"time"
)

func TestTickUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ticks := make(chan time.Time, 10)
	done := make(chan struct{})
	go func() {
		Tick(ctx, time.Millisecond, func(now time.Time) {
			select {
			case ticks <- now:
			default:
			}
		})
		close(done)
	}()
	for i := 0; i < 3; i++ {
		select {
		case <-ticks:
		case <-time.After(5 * time.Second):
			t.Fatalf("tick %d did not come within 5 s", i+1)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Tick did not return within 5 s of the cancel")
	}
}
