package e2e

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
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

// TestAPIQuotaClusterWide: api_requests_per_second counts an app's API
// requests on every gateway of a cluster. Gateway b hears of the requests a
// let through (its metric shows them) and charges them to its own bucket:
// its next answer is 429, or 200 with what is left after a's use (without a
// cluster-wide quota b would still have its whole second's worth).
func TestAPIQuotaClusterWide(t *testing.T) {
	nodes := startCluster(t, 2, `
apps:
  - id: "1"
    key: q-key
    secret: q-secret
    api_requests_per_second: 3
`)
	a, b := nodes[0], nodes[1]
	get := func(s *server) *http.Response {
		t.Helper()
		q := protocol.SignRequest("q-key", "q-secret", http.MethodGet, "/apps/1/channels", nil, nil, time.Now())
		resp, err := http.Get(s.APIURL() + "/apps/1/channels?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	start := time.Now()
	for i := 0; i < 3; i++ {
		if resp := get(a); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d on a: %d, want 200", i+1, resp.StatusCode)
		}
	}
	waitFor(t, "b to hear of a's 3 requests", func() bool {
		resp, err := http.Get(b.APIURL() + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(body), `pushd_api_quota_remote_total{app="q-key"} 3`)
	})
	resp := get(b)
	if elapsed := time.Since(start); elapsed >= time.Second {
		t.Fatalf("the check took %v: the bucket refilled meanwhile, nothing is shown", elapsed)
	}
	if resp.StatusCode == http.StatusOK {
		if left, _ := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining")); left > 1 {
			t.Fatalf("b after a used the quota: 200 with %d left, want 429 or at most 1 left", left)
		}
	} else if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("b after a used the quota: %d, want 429 (or 200 with at most 1 left)", resp.StatusCode)
	}
}
