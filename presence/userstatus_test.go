package presence

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// waitStatus polls (bounded) until tr reports want sockets for user.
func waitStatus(t *testing.T, tr *Tracker, ch, user string, sockets int) UserStatus {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := tr.UserStatus("app", ch, user)
		if st.Sockets == sockets {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s: %s has %d sockets on %s, want %d", tr.opts.Node, user, st.Sockets, ch, sockets)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestUserStatus: a user's sockets on two nodes count on every node, and
// since is the join time of the oldest open one, carried in the key's value
// so that a node that builds its view later (after many refreshes rewrote
// the keys) reports the same time.
func TestUserStatus(t *testing.T) {
	ts, _, _ := startNodes(t, 2, 1200*time.Millisecond) // refreshed every 400 ms
	a, b := ts[0], ts[1]
	ctx := context.Background()
	const ch = "#online"
	before := time.Now().Truncate(time.Millisecond)
	if err := a.Join(ctx, "app", ch, "1.1", Member{UserID: "u"}); err != nil {
		t.Fatal(err)
	}
	joinedA := time.Now()
	waitStatus(t, b, ch, "u", 1)
	time.Sleep(5 * time.Millisecond) // the second join is later by the clock (ms resolution)
	if err := b.Join(ctx, "app", ch, "2.1", Member{UserID: "u"}); err != nil {
		t.Fatal(err)
	}
	for _, tr := range ts {
		st := waitStatus(t, tr, ch, "u", 2)
		if st.Since.Before(before) || st.Since.After(joinedA) {
			t.Fatalf("node %s: since %s, want the first join, between %s and %s", tr.opts.Node, st.Since, before, joinedA)
		}
	}
	sinceA := a.UserStatus("app", ch, "u").Since

	// Keys are rewritten every 400 ms: once the first socket's key was
	// stored well after its join, a tracker that starts reads only that
	// rewrite, and must still report the join time.
	waitFor := time.Now().Add(5 * time.Second)
	for {
		e, err := a.bucket().Get(ctx, memberKey("app", "_23online", "n0", "1_2E1"))
		if err != nil {
			t.Fatalf("member key: %v", err)
		}
		if e.Created().Sub(sinceA) > 500*time.Millisecond {
			break
		}
		if time.Now().After(waitFor) {
			t.Fatalf("member key not rewritten since %s (last write %s)", sinceA, e.Created())
		}
		time.Sleep(50 * time.Millisecond)
	}
	late, err := New(ctx, a.js, Options{Node: "late", TTL: 1200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go late.Run(lctx, make(recorder, 100))
	<-late.Ready()
	if st := late.UserStatus("app", ch, "u"); st.Sockets != 2 || !st.Since.Equal(sinceA) {
		t.Fatalf("late node: %+v, want 2 sockets since %s", st, sinceA)
	}

	// The oldest socket leaves: since moves to the other one's join.
	if err := a.Leave(ctx, "app", ch, "1.1"); err != nil {
		t.Fatal(err)
	}
	for _, tr := range []*Tracker{a, b, late} {
		st := waitStatus(t, tr, ch, "u", 1)
		if !st.Since.After(sinceA) {
			t.Fatalf("node %s after the oldest socket left: since %s, want after %s", tr.opts.Node, st.Since, sinceA)
		}
	}
	if err := b.Leave(ctx, "app", ch, "2.1"); err != nil {
		t.Fatal(err)
	}
	for _, tr := range ts {
		if st := waitStatus(t, tr, ch, "u", 0); !st.Since.IsZero() {
			t.Fatalf("node %s: offline user has since %s", tr.opts.Node, st.Since)
		}
	}
}

// TestUserStatusOldValue: a member key written without a join time (by a
// node of an earlier version) counts from when the bucket stored it.
func TestUserStatusOldValue(t *testing.T) {
	ts, _, _ := startNodes(t, 1, 5*time.Second)
	tr := ts[0]
	ctx := context.Background()
	val, _ := json.Marshal(Member{UserID: "old"})
	before := time.Now().Add(-time.Millisecond)
	if _, err := tr.bucket().Put(ctx, memberKey("app", "presence-x", "other", "9_2E1"), val); err != nil {
		t.Fatal(err)
	}
	st := waitStatus(t, tr, "presence-x", "old", 1)
	if st.Since.Before(before) || st.Since.After(time.Now()) {
		t.Fatalf("since %s, want the time of the put (after %s)", st.Since, before)
	}
}
