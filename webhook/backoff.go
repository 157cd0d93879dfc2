package webhook

import "time"

// backoff is the wait before retry number n (1-based): base, 2·base, 4·base
// … capped at max.
func backoff(n int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}
