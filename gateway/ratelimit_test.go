package gateway

import (
	"testing"
	"time"
)

func TestRateLimiterBurstRefillAndPeek(t *testing.T) {
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
	if p := l.peek(now.Add(time.Second/2), 3); !p.ok || p.remaining != 1 {
		t.Fatalf("peek after 0.5 s: %+v, want a token (1.5 left)", p)
	}
	if p := l.peek(now.Add(time.Second/2), 3); p.remaining != 1 {
		t.Fatalf("peek took a token: %+v", p)
	}
	if q := l.allow(now, 0); !q.ok {
		t.Fatal("rate 0 refused a request")
	}
}
