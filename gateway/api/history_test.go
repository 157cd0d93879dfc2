package api

import (
	"net/url"
	"testing"
)

func TestParseHistoryQuery(t *testing.T) {
	tests := []struct {
		query        string
		after        uint64
		limit        int
		badParameter bool
	}{
		{"", 0, 100, false},
		{"after_seq=0", 0, 100, false},
		{"after_seq=1796649485357245&limit=1", 1796649485357245, 1, false},
		{"limit=1000", 0, 1000, false},
		{"limit=1001", 0, 1000, false}, // capped
		{"limit=99999999999999999999", 0, 0, true},
		{"limit=0", 0, 0, true},
		{"limit=-5", 0, 0, true},
		{"limit=ten", 0, 0, true},
		{"limit=1.5", 0, 0, true},
		{"after_seq=-1", 0, 0, true},
		{"after_seq=abc", 0, 0, true},
		{"after_seq=1e6", 0, 0, true},
		{"after_seq=18446744073709551616", 0, 0, true}, // 2^64
	}
	for _, tt := range tests {
		v, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		q, err := parseHistoryQuery(v.Get)
		if tt.badParameter {
			if ae, ok := err.(*Error); !ok || ae.Status != 400 {
				t.Errorf("%q: %v, want a 400", tt.query, err)
			}
			continue
		}
		if err != nil || q.after != tt.after || q.limit != tt.limit {
			t.Errorf("%q: after %d limit %d (%v), want %d and %d", tt.query, q.after, q.limit, err, tt.after, tt.limit)
		}
	}
}
