package main

import "testing"

func TestHistBuckets(t *testing.T) {
	for _, us := range []int64{0, 1, 1023, 1024, 1500, 4096, 99_999, 1_000_000, 60_000_000} {
		b := bucketOf(us)
		if v := bucketValue(b); v < us || float64(v-us) > 0.02*float64(us)+1 {
			t.Errorf("bucket of %d µs: upper bound %d, want within 2%%", us, v)
		}
		if b > 0 && bucketValue(b-1) >= us {
			t.Errorf("bucket of %d µs: previous bucket's bound %d is not below it", us, bucketValue(b-1))
		}
	}
	var h hist
	for i := int64(1); i <= 1000; i++ {
		h.add(i * 10)
	}
	s := h.summary()
	if s.N != 1000 || s.P50 < 4.9 || s.P50 > 5.1 || s.P99 < 9.8 || s.P99 > 10 || s.Max != 10 {
		t.Fatalf("summary %+v, want n=1000 p50≈5 p99≈9.9 max=10 ms", s)
	}
}
