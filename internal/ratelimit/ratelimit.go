// Package ratelimit is the project's one rate limiter: a token bucket that
// refills at rate tokens a second up to a burst of one second's worth.
// Pushd uses it for client events per connection, API requests per app and
// failed API authentications per address.
package ratelimit

import (
	"math"
	"time"
)

// Bucket is a token bucket; the zero value is full. It is not safe for
// concurrent use: a connection's bucket is only touched by the goroutine
// that handles its frames, and shared buckets sit behind a mutex (Locked).
// It takes 16 bytes, which matters at one per connection.
type Bucket struct {
	tokens float64
	last   int64 // unix nanos of the last refill; 0: never used (full)
}

// Quota is the state of a bucket after a request: whether it was let
// through, the whole tokens left, how long until the next token (when
// refused) and how long until the bucket is full again.
type Quota struct {
	OK        bool
	Remaining int
	Retry     time.Duration
	Reset     time.Duration
}

// refill brings the bucket up to now.
func (b *Bucket) refill(now int64, r float64) {
	if b.last == 0 {
		b.tokens = r
	} else if now > b.last {
		b.tokens = min(r, b.tokens+float64(now-b.last)/1e9*r)
	}
	b.last = now
}

// Take takes a token at rate per second; rate 0 or less means no limit.
func (b *Bucket) Take(now time.Time, rate int) Quota {
	if rate <= 0 {
		return Quota{OK: true}
	}
	r := float64(rate)
	b.refill(now.UnixNano(), r)
	ok := b.tokens >= 1
	if ok {
		b.tokens--
	}
	q := Quota{OK: ok, Remaining: int(math.Floor(max(0, b.tokens)))}
	if !ok {
		q.Retry = time.Duration((1 - b.tokens) / r * float64(time.Second))
	}
	q.Reset = time.Duration((r - b.tokens) / r * float64(time.Second))
	return q
}

// Allow takes a token and reports whether there was one.
func (b *Bucket) Allow(now time.Time, rate int) bool { return b.Take(now, rate).OK }

// Charge takes n tokens used elsewhere (another gateway's requests against a
// cluster-wide quota). The bucket may go below zero, down to one second's
// worth, so that what the cluster used is paid back before anyone is let
// through again.
func (b *Bucket) Charge(now time.Time, rate, n int) {
	if rate <= 0 || n <= 0 {
		return
	}
	r := float64(rate)
	b.refill(now.UnixNano(), r)
	b.tokens = max(-r, b.tokens-float64(n))
}
