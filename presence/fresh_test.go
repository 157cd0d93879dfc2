package presence

import (
	"testing"
	"time"
)

// TestOwnCountIsReadYourWrite checks that a node's own count changes are
// visible to its reads at once, before the batched write reaches the
// bucket, while other nodes' counts come from the bucket.
func TestOwnCountIsReadYourWrite(t *testing.T) {
	ts, _, _ := startNodes(t, 2, 5*time.Second)
	a, b := ts[0], ts[1]
	for i := 1; i <= 50; i++ {
		a.SetCount("app", "c", i)
		if got := a.SubscriptionCount("app", "c"); got != i {
			t.Fatalf("after SetCount(%d): own SubscriptionCount %d, want %d", i, got, i)
		}
		names, counts := a.Channels("app", "")
		if len(names) != 1 || names[0] != "c" || counts["c"] != i {
			t.Fatalf("after SetCount(%d): Channels %v %v, want [c] with %d", i, names, counts, i)
		}
	}
	// Another node sees the count once written; then its own share adds.
	deadline := time.Now().Add(10 * time.Second)
	for b.SubscriptionCount("app", "c") != 50 {
		if time.Now().After(deadline) {
			t.Fatalf("other node: SubscriptionCount %d, want 50", b.SubscriptionCount("app", "c"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.SetCount("app", "c", 2)
	if got := b.SubscriptionCount("app", "c"); got != 52 {
		t.Fatalf("other node after its own SetCount(2): %d, want 52", got)
	}
	// Vacating is read-your-write too: the stale bucket share is not counted.
	a.SetCount("app", "c", 0)
	if got := a.SubscriptionCount("app", "c"); got > 2 {
		t.Fatalf("after SetCount(0): own SubscriptionCount %d, want at most the other node's 2", got)
	}
	// b learns of a's departure when a's write lands (across nodes the
	// count is as fresh as the last flush, 50 ms by default).
	b.SetCount("app", "c", 0)
	deadline = time.Now().Add(10 * time.Second)
	for {
		na, _ := a.Channels("app", "")
		nb, _ := b.Channels("app", "")
		if len(na) == 0 && len(nb) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("channels after vacating: %v and %v, want none", na, nb)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
