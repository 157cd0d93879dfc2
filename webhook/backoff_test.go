package webhook

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	tests := []struct {
		n    int
		want time.Duration
	}{
		{0, time.Second}, {1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second},
		{6, 32 * time.Second}, {7, time.Minute}, {100, time.Minute},
	}
	for _, tt := range tests {
		if got := backoff(tt.n, time.Second, time.Minute); got != tt.want {
			t.Errorf("backoff(%d): got %v, want %v", tt.n, got, tt.want)
		}
	}
}

func TestStampBefore(t *testing.T) {
	a, b, c := stamp{T: 1, Q: 9}, stamp{T: 2, Q: 1}, stamp{T: 2, Q: 2}
	if !a.before(b) || !b.before(c) || c.before(b) || b.before(b) {
		t.Errorf("stamp order wrong: %v %v %v", a, b, c)
	}
}
