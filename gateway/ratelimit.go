package gateway

import (
	"sync"
	"time"
)

// rateLimiter is a token bucket shared by one app's API requests.
type rateLimiter struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// allow takes a token at rate per second (burst: one second's worth) and
// reports how long to wait when none is left. rate 0 means no limit.
func (l *rateLimiter) allow(now time.Time, rate int) (bool, time.Duration) {
	if rate <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := float64(rate)
	if l.last.IsZero() {
		l.tokens = r
	} else {
		l.tokens = min(r, l.tokens+now.Sub(l.last).Seconds()*r)
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return true, 0
	}
	return false, time.Duration((1 - l.tokens) / r * float64(time.Second))
}
