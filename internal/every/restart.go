package every

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// Restart runs run until ctx ends. Each time run returns, its error is
// stored in health and logged; after a wait (250 ms, doubling up to 5 s)
// again prepares the next start within 5 s (an error of again is logged)
// and run starts again, told it is not the first start. The watchers of
// the KV buckets (apps, presence) are this loop.
func Restart(ctx context.Context, log *slog.Logger, what string, health *atomic.Pointer[error],
	run func(first bool) error, again func(ctx context.Context) error) {
	wait := 250 * time.Millisecond
	for first := true; ; first = false {
		err := run(first)
		if ctx.Err() != nil {
			return
		}
		health.Store(&err)
		log.Warn(what+" watcher stopped, restarting", slog.Any("err", err), slog.Duration("in", wait))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := again(actx); err != nil {
			log.Warn(what, slog.Any("err", err))
		}
		cancel()
	}
}
