package api

import (
	"net"
	"net/http"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/pushd/pushd/internal/ratelimit"
)

// authFailAddrs is how many remote addresses the failed-authentication
// buckets remember; the least recently failing are forgotten first.
const authFailAddrs = 10000

// authFailures limits failed API authentications (unknown key, bad or
// missing signature) per remote address, in a bucket of their own: an
// unsigned request that carries only an app's public key never uses up the
// app's quota, and an address past its failures gets 429 instead of 401.
type authFailures struct {
	rate   int // failures a second per address (and burst); 0 = no limit
	byAddr *lru.Cache[string, *ratelimit.Locked]
}

func newAuthFailures(rate int) *authFailures {
	c, err := lru.New[string, *ratelimit.Locked](authFailAddrs)
	if err != nil {
		panic(err) // only for a size ≤ 0
	}
	return &authFailures{rate: rate, byAddr: c}
}

// fail charges one failed authentication to addr and reports whether the
// address is past its budget, and when it may try again.
func (f *authFailures) fail(addr string, now time.Time) (bool, time.Duration) {
	if f.rate <= 0 {
		return false, 0
	}
	l, ok := f.byAddr.Get(addr)
	if !ok {
		l = new(ratelimit.Locked)
		if prev, found, _ := f.byAddr.PeekOrAdd(addr, l); found {
			l = prev
		}
	}
	q := l.Take(now, f.rate)
	return !q.OK, q.Retry
}

// remoteHost is the request's peer address without the port.
func remoteHost(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}
