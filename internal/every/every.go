// Package every runs a function on a ticker until a context ends: the
// background loops of a node (liveness scans, quota reports, certificate
// checks) are all this loop.
package every

import (
	"context"
	"time"
)

// Tick calls f with the time of each tick, every d, until ctx ends; f runs
// on Tick's goroutine, so a slow f delays the next tick rather than
// overlapping it.
func Tick(ctx context.Context, d time.Duration, f func(now time.Time)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			f(now)
		}
	}
}
