package gateway

import (
	"testing"
	"time"
)

func TestRateLimiterBurstAndRefill(t *testing.T) {
	var l rateLimiter
	now := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		if q := l.allow(now, 3); !q.ok || q.remaining != 2-i {
			t.Fatalf("request %d: %+v, want allowed with %d left", i, q, 2-i)
		}
	}
	q := l.allow(now, 3)
	if q.ok || q.retry <= 0 || q.retry > time.Second/3+time.Millisecond || q.reset != time.Second {
		t.Fatalf("fourth request: %+v, want refused, retry ≤ 1/3 s, reset 1 s", q)
	}
	if q := l.allow(now.Add(time.Second/2), 3); !q.ok || q.remaining != 0 {
		t.Fatalf("request after 0.5 s: %+v, want allowed (1.5 refilled, 0 whole left)", q)
	}
	if q := l.allow(now, 0); !q.ok {
		t.Fatal("rate 0 refused a request")
	}
}

func TestRateLimiterCharge(t *testing.T) {
	var l rateLimiter
	now := time.Unix(1000, 0)
	l.charge(now, 3, 2) // another gateway used 2 of the 3
	if q := l.allow(now, 3); !q.ok || q.remaining != 0 {
		t.Fatalf("after a remote charge of 2: %+v, want the last token", q)
	}
	l.charge(now, 3, 100) // far over: the debt is capped at one second's worth
	if q := l.allow(now.Add(time.Second), 3); q.ok {
		t.Fatalf("1 s after a debt of 3: %+v, want still refused (bucket at 0)", q)
	}
	if q := l.allow(now.Add(time.Second+time.Second/2), 3); !q.ok {
		t.Fatalf("1.5 s after the debt: %+v, want allowed", q)
	}
	l.charge(now, 0, 5) // no limit: nothing to charge
}
