package bus

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Creating and deleting app streams while the storage check runs is not a
// failing store. nats-server's health check sees a new stream's directory a
// moment before the stream itself (and a deleted one's a moment after) and
// names it "could not be recovered"; streams now come and go at run time
// (apps created and deleted through the app store).
func TestStreamChurnIsNotAStorageFailure(t *testing.T) {
	b, _ := openTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const streams, workers = 300, 8
	done := make(chan struct{})
	errs := make(chan error, streams)
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		next := make(chan int)
		for range workers {
			wg.Go(func() {
				for i := range next {
					key := "churn-" + strconv.Itoa(i)
					if err := b.EnsureApp(ctx, AppStream{Key: key, MaxAge: time.Hour, MaxBytes: 1 << 20}); err != nil {
						errs <- err
						continue
					}
					if i%2 == 0 {
						if err := b.DeleteApp(ctx, key); err != nil {
							errs <- err
						}
					}
				}
			})
		}
		for i := range streams {
			next <- i
		}
		close(next)
		wg.Wait()
	}()
	checks := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		b.store.check(ctx, false)
		if err := b.store.failing(); err != nil {
			t.Fatalf("after %d checks while streams come and go: %v, want storage working", checks, err)
		}
		if err := b.Healthy(ctx); err != nil {
			t.Fatalf("after %d checks while streams come and go: not healthy: %v", checks, err)
		}
		checks++
	}
	close(errs)
	for err := range errs {
		t.Errorf("stream churn: %v", err)
	}
	t.Logf("%d storage checks while %d streams were created (half of them deleted)", checks, streams)
}
