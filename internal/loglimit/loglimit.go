// Package loglimit keeps a flood of like log lines from flooding the log:
// a few lines a second pass for each source (a remote address) and a cap
// for the whole door, on internal/ratelimit's bucket; the lines held back
// are counted and the next line of that source to pass says how many.
// The socket door and the HTTP API log every refusal through one.
package loglimit

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/pushd/pushd/internal/ratelimit"
)

// Default rates: lines a second (and burst) per source and in all.
const (
	DefaultPerSource = 5
	DefaultTotal     = 50
)

// sources is how many sources a Limiter remembers; the least recently
// logged are forgotten first (with their count of lines held back).
const sources = 10000

// Limiter decides which refusal lines are written. It is safe for
// concurrent use.
type Limiter struct {
	perSource, total int
	all              ratelimit.Locked
	bySource         *lru.Cache[string, *source]
	now              func() time.Time // time.Now; tests move it
}

// source is one remote address's bucket and the lines it had held back.
type source struct {
	bucket  ratelimit.Locked
	dropped atomic.Int64
}

// New returns a limiter that lets perSource lines a second through for each
// source and total lines a second in all (each rate also the burst; 0 or
// less: no limit).
func New(perSource, total int) *Limiter {
	c, err := lru.New[string, *source](sources)
	if err != nil {
		panic(err) // only for a size ≤ 0
	}
	return &Limiter{perSource: perSource, total: total, bySource: c, now: time.Now}
}

// Log writes msg at level with attrs when source and the limiter as a
// whole are within their rates, and counts it as held back otherwise. A
// line written after some of its source's were held back carries
// suppressed=N. Nothing is counted or taken when the level is off.
func (l *Limiter) Log(ctx context.Context, log *slog.Logger, level slog.Level, src, msg string, attrs ...slog.Attr) {
	if !log.Enabled(ctx, level) {
		return
	}
	s, ok := l.bySource.Get(src)
	if !ok {
		s = new(source)
		if prev, found, _ := l.bySource.PeekOrAdd(src, s); found {
			s = prev
		}
	}
	now := l.now()
	if !s.bucket.Take(now, l.perSource).OK || !l.all.Take(now, l.total).OK {
		s.dropped.Add(1)
		return
	}
	if n := s.dropped.Swap(0); n > 0 {
		attrs = append(attrs, slog.Int64("suppressed", n))
	}
	log.LogAttrs(ctx, level, msg, attrs...)
}
