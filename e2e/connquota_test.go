package e2e

import (
	"testing"
	"time"
)

// TestConnectionQuotaClusterWide: max_connections counts an app's open
// connections on every gateway of a cluster, not on each one.
func TestConnectionQuotaClusterWide(t *testing.T) {
	nodes := startCluster(t, 2, `
apps:
  - id: "1"
    key: cap-key
    secret: cap-secret
    max_connections: 3
`)
	a, b := nodes[0], nodes[1]
	first, _ := connect(t, a, "cap-key")
	connect(t, a, "cap-key")
	connect(t, b, "cap-key") // 3 of 3, over two gateways
	// Each gateway sees the other's count within a flush (50 ms): from
	// then on a fourth connection is refused on either one with 4004.
	for _, s := range []*server{b, a} {
		deadline := time.Now().Add(5 * time.Second)
		for {
			c := dialWith(t, s.WSURL("cap-key"), nil, nil)
			f := c.next()
			if f.Event == "pusher:error" && errorCode(t, f) == 4004 {
				break
			}
			if f.Event != "pusher:connection_established" {
				t.Fatalf("4th connection on %s: %s", s.WSAddr, f.raw)
			}
			c.conn.WriteClose(1000, nil)
			if time.Now().After(deadline) {
				t.Fatalf("a 4th connection on %s is still accepted after 5 s: the quota is per gateway", s.WSAddr)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// A connection that closes frees its place, on the other gateway too.
	first.conn.WriteClose(1000, nil)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := dialWith(t, b.WSURL("cap-key"), nil, nil)
		f := c.next()
		if f.Event == "pusher:connection_established" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("5 s after a connection closed on %s, %s still refuses: %s", a.WSAddr, b.WSAddr, f.raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
