package presence

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRefreshKeepsKeysAlive: a node's member and count keys outlive the
// TTL while it refreshes them (written in one pipelined batch), and no
// transition is reported for them.
func TestRefreshKeepsKeysAlive(t *testing.T) {
	ts, rs, _ := startNodes(t, 2, time.Second)
	a := ts[0]
	ctx := context.Background()
	const n = 600 // more than one window of writes in flight
	// The recorders hold 100 transitions: drain them, keeping node 1's.
	var mu sync.Mutex
	var seen []string
	for i, r := range rs {
		go func() {
			for line := range r {
				if i == 1 {
					mu.Lock()
					seen = append(seen, line)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		if err := a.Join(ctx, "app", "presence-big", fmt.Sprintf("1.%d", i), Member{UserID: fmt.Sprintf("u%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	a.SetCount("app", "presence-big", n)
	deadline := time.Now().Add(10 * time.Second)
	for ts[1].UserCount("app", "presence-big") != n || ts[1].SubscriptionCount("app", "presence-big") != n {
		if time.Now().After(deadline) {
			t.Fatalf("other node sees %d members, %d subscriptions; want %d", ts[1].UserCount("app", "presence-big"), ts[1].SubscriptionCount("app", "presence-big"), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	before := len(seen)
	mu.Unlock()
	// Three TTLs: every key must have been rewritten in time, or it expired.
	time.Sleep(3 * time.Second)
	if got := ts[1].UserCount("app", "presence-big"); got != n {
		t.Fatalf("after 3 TTLs the other node sees %d members, want %d", got, n)
	}
	if got := ts[1].SubscriptionCount("app", "presence-big"); got != n {
		t.Fatalf("after 3 TTLs the other node counts %d subscriptions, want %d", got, n)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, got := range seen[before:] {
		if strings.HasPrefix(got, "removed") {
			t.Fatalf("transition %q while the member stayed", got)
		}
	}
}

// TestRefreshDoesNotReviveALeftMember: a member that leaves while a refresh
// holds its key (the refresh's write may land after the Leave's delete) is
// deleted again when the refresh ends, not left as a ghost until its TTL.
func TestRefreshDoesNotReviveALeftMember(t *testing.T) {
	ts, rs, _ := startNodes(t, 2, 5*time.Second)
	a := ts[0]
	ctx := context.Background()
	const ch = "presence-race"
	if err := a.Join(ctx, "app", ch, "1.1", Member{UserID: "u1"}); err != nil {
		t.Fatal(err)
	}
	rs[1].want(t, "added app presence-race u1 by n0/1.1")
	held := a.ownKeys() // the refresh's snapshot
	if err := a.Leave(ctx, "app", ch, "1.1"); err != nil {
		t.Fatal(err)
	}
	rs[1].want(t, "removed app presence-race u1")
	a.rewrite(ctx, held) // its write lands after the delete
	deadline := time.Now().Add(3 * time.Second)
	for ts[1].Present("app", ch, "u1") || len(rs[1]) < 2 {
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ts[1].Present("app", ch, "u1") {
		t.Fatal("u1 is present again after it left: the refresh revived its key")
	}
}
