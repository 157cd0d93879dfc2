package ratelimit

import (
	"testing"
	"time"
)

func TestBucketBurstAndRefill(t *testing.T) {
	var b Bucket
	now := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		if q := b.Take(now, 3); !q.OK || q.Remaining != 2-i {
			t.Fatalf("request %d: %+v, want allowed with %d left", i, q, 2-i)
		}
	}
	q := b.Take(now, 3)
	if q.OK || q.Retry <= 0 || q.Retry > time.Second/3+time.Millisecond || q.Reset != time.Second {
		t.Fatalf("fourth request: %+v, want refused, retry ≤ 1/3 s, reset 1 s", q)
	}
	if q := b.Take(now.Add(time.Second/2), 3); !q.OK || q.Remaining != 0 {
		t.Fatalf("request after 0.5 s: %+v, want allowed (1.5 refilled, 0 whole left)", q)
	}
	if !b.Allow(now, 0) {
		t.Fatal("rate 0 refused a request")
	}
}

func TestBucketCharge(t *testing.T) {
	var b Bucket
	now := time.Unix(1000, 0)
	b.Charge(now, 3, 2) // another gateway used 2 of the 3
	if q := b.Take(now, 3); !q.OK || q.Remaining != 0 {
		t.Fatalf("after a remote charge of 2: %+v, want the last token", q)
	}
	b.Charge(now, 3, 100) // far over: the debt is capped at one second's worth
	if b.Allow(now.Add(time.Second), 3) {
		t.Fatal("1 s after a debt of 3: allowed, want still refused (bucket at 0)")
	}
	if !b.Allow(now.Add(time.Second+time.Second/2), 3) {
		t.Fatal("1.5 s after the debt: refused, want allowed")
	}
	b.Charge(now, 0, 5) // no limit: nothing to charge
}

func TestLocked(t *testing.T) {
	var l Locked
	now := time.Unix(1000, 0)
	l.Charge(now, 2, 1)
	if q := l.Take(now, 2); !q.OK || q.Remaining != 0 {
		t.Fatalf("%+v, want the last token", q)
	}
	if l.Take(now, 2).OK {
		t.Fatal("an empty bucket let a request through")
	}
}
