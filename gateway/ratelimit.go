package gateway

import (
	"math"
	"sync"
	"time"
)

// rateLimiter is a token bucket: rate tokens a second, a burst of one
// second's worth. The zero value is a full bucket.
type rateLimiter struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// quota is the state of a bucket after a request: whether it was allowed,
// the whole tokens left, how long until the next token (when refused) and
// how long until the bucket is full again.
type quota struct {
	ok        bool
	remaining int
	retry     time.Duration
	reset     time.Duration
}

// refill brings the bucket up to now; l.mu is held.
func (l *rateLimiter) refill(now time.Time, r float64) {
	if l.last.IsZero() {
		l.tokens = r
	} else {
		l.tokens = min(r, l.tokens+now.Sub(l.last).Seconds()*r)
	}
	l.last = now
}

// state describes the bucket after a request was or was not let through.
func (l *rateLimiter) state(ok bool, r float64) quota {
	q := quota{ok: ok, remaining: int(math.Floor(l.tokens))}
	if !ok {
		q.retry = time.Duration((1 - l.tokens) / r * float64(time.Second))
	}
	q.reset = time.Duration((r - l.tokens) / r * float64(time.Second))
	return q
}

// allow takes a token at rate per second; rate 0 or less means no limit.
func (l *rateLimiter) allow(now time.Time, rate int) quota {
	if rate <= 0 {
		return quota{ok: true}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := float64(rate)
	l.refill(now, r)
	ok := l.tokens >= 1
	if ok {
		l.tokens--
	}
	return l.state(ok, r)
}

// charge takes n tokens used elsewhere (another gateway's requests against
// a cluster-wide quota). The bucket may go below zero, down to one second's
// worth, so that what the cluster used is paid back before anyone is let
// through again.
func (l *rateLimiter) charge(now time.Time, rate, n int) {
	if rate <= 0 || n <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := float64(rate)
	l.refill(now, r)
	l.tokens = max(-r, l.tokens-float64(n))
}
