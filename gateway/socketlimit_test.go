package gateway

import (
	"math"
	"testing"
)

func TestSocketLimit(t *testing.T) {
	cases := []struct {
		configured int
		files      uint64
		want       int
		fails      bool
	}{
		{0, 20000, 19500, false},                  // the usual margin
		{0, 1024, 524, false},                     // a default ulimit -n
		{0, 1000, 500, false},                     // where the margin meets half the limit
		{0, 400, 200, false},                      // below 1000: half
		{0, 1, 1, false},                          // still one socket
		{0, 0, math.MaxInt32 - fileMargin, false}, // unknown limit
		{0, math.MaxUint64, math.MaxInt32 - fileMargin, false},
		{3, 20000, 3, false},
		{20000, 20000, 20000, false}, // allowed, with a warning at start
		{20001, 20000, 0, true},
		{-1, 20000, 0, true},
		{1 << 20, 0, 1 << 20, false}, // unknown limit: as configured
	}
	for _, tc := range cases {
		got, err := socketLimit(tc.configured, tc.files)
		if tc.fails {
			if err == nil {
				t.Errorf("socketLimit(%d, %d) = %d, want an error", tc.configured, tc.files, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("socketLimit(%d, %d) = %d, %v; want %d", tc.configured, tc.files, got, err, tc.want)
		}
	}
}
