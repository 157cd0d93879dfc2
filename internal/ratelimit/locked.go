package ratelimit

import (
	"sync"
	"time"
)

// Locked is a Bucket shared by goroutines (an app's API quota, an
// address's failed authentications).
type Locked struct {
	mu sync.Mutex
	b  Bucket
}

// Take takes a token at rate per second (see Bucket.Take).
func (l *Locked) Take(now time.Time, rate int) Quota {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Take(now, rate)
}

// Charge takes n tokens used elsewhere (see Bucket.Charge).
func (l *Locked) Charge(now time.Time, rate, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Charge(now, rate, n)
}
