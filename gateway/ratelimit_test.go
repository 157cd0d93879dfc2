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
