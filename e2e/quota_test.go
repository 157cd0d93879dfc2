package e2e

import (
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
)

// fromAddr is an HTTP client whose requests leave from the loopback address
// src, so one test can play an attacker and the app's backend.
func fromAddr(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

// TestAPIQuotaNotSpentByUnsignedRequests: requests that carry only the
// app's public key (it ships in every page) fail authentication and use a
// per-address bucket of their own, never the app's quota; the backend's
// signed calls keep their full quota and see it in X-RateLimit headers,
// even from the attacker's own address (a proxy or NAT in front of both).
func TestAPIQuotaNotSpentByUnsignedRequests(t *testing.T) {
	s := startPushd(t, "api_auth_failures_per_second: 10\n")
	attacker, other, backend := fromAddr("127.0.0.1"), fromAddr("127.0.0.2"), fromAddr("127.0.0.1")
	forged := s.APIURL() + "/apps/8/channels?auth_key=quota-key&auth_timestamp=1&auth_signature=forged"
	statuses := map[int]int{}
	for i := 0; i < 30; i++ {
		resp, err := attacker.Get(forged)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses[resp.StatusCode]++
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	// 10 failures a second per address, then 429 at once.
	if statuses[http.StatusUnauthorized] < 10 || statuses[http.StatusTooManyRequests] < 10 {
		t.Fatalf("30 forged requests: %v, want 10+ 401 then 429s", statuses)
	}
	// Another address has a bucket of its own.
	resp, err := other.Get(forged)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged request from another address: %d, want 401", resp.StatusCode)
	}
	// quota-key allows 3 requests a second: all 3 are the backend's.
	for i := 0; i < 3; i++ {
		q := protocol.SignRequest("quota-key", "quota-secret", http.MethodGet, "/apps/8/channels", nil, nil, time.Now())
		resp, err := backend.Get(s.APIURL() + "/apps/8/channels?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("signed call %d after the forged flood: %d, want 200", i+1, resp.StatusCode)
		}
		h := resp.Header
		if h.Get("X-RateLimit-Limit") != "3" || h.Get("X-RateLimit-Remaining") != strconv.Itoa(2-i) {
			t.Fatalf("signed call %d: X-RateLimit-Limit %q Remaining %q, want 3 and %d", i+1, h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), 2-i)
		}
		if reset, err := strconv.Atoi(h.Get("X-RateLimit-Reset")); err != nil || reset < 1 || reset > 1 {
			t.Fatalf("signed call %d: X-RateLimit-Reset %q, want 1 (seconds to a full bucket)", i+1, h.Get("X-RateLimit-Reset"))
		}
	}
}
