package presence

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/bus"
)

// recorder is a Listener that writes every transition as a line.
type recorder chan string

func (r recorder) MemberAdded(app, ch string, m Member, by Socket, _ uint64) {
	r <- fmt.Sprintf("added %s %s %s by %s/%s", app, ch, m.UserID, by.Node, by.ID)
}
func (r recorder) MemberRemoved(app, ch, user string, _ uint64) {
	r <- fmt.Sprintf("removed %s %s %s", app, ch, user)
}
func (r recorder) Occupied(app, ch string, _ uint64)        { r <- "occupied " + app + " " + ch }
func (r recorder) Vacated(app, ch string, _ uint64)         { r <- "vacated " + app + " " + ch }
func (r recorder) CountChanged(string, string, int, uint64) {}

func (r recorder) want(t *testing.T, lines ...string) {
	t.Helper()
	for _, want := range lines {
		select {
		case got := <-r:
			if got != want {
				t.Fatalf("transition %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no transition within 5s, want %q", want)
		}
	}
}

// wantAll waits for transitions in any order: those of different keys (a
// member and a count, two nodes' members) are written independently.
func (r recorder) wantAll(t *testing.T, lines ...string) {
	t.Helper()
	left := map[string]int{}
	for _, l := range lines {
		left[l]++
	}
	for range lines {
		select {
		case got := <-r:
			if left[got] == 0 {
				t.Fatalf("transition %q, want one of %v", got, left)
			}
			left[got]--
		case <-time.After(5 * time.Second):
			t.Fatalf("no transition within 5s, still want %v", left)
		}
	}
}

func (r recorder) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case got := <-r:
		t.Fatalf("unexpected transition %q", got)
	case <-time.After(d):
	}
}

// startNodes runs n trackers on one embedded NATS, as n gateways would.
func startNodes(t *testing.T, n int, ttl time.Duration) ([]*Tracker, []recorder, []context.CancelFunc) {
	t.Helper()
	b, err := bus.Open(context.Background(), bus.Options{DataDir: t.TempDir()}, func(bus.Delivery) {})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	var ts []*Tracker
	var rs []recorder
	var cancels []context.CancelFunc
	for i := 0; i < n; i++ {
		r := make(recorder, 100)
		tr, err := New(context.Background(), b.JetStream(), Options{Node: fmt.Sprintf("n%d", i), TTL: ttl, Flush: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		go tr.Run(ctx, r)
		select {
		case <-tr.Ready():
		case <-time.After(5 * time.Second):
			t.Fatal("tracker not ready")
		}
		ts, rs, cancels = append(ts, tr), append(rs, r), append(cancels, cancel)
	}
	return ts, rs, cancels
}

func TestMembersAcrossNodes(t *testing.T) {
	ts, rs, _ := startNodes(t, 2, 5*time.Second)
	a, b := ts[0], ts[1]
	ctx := context.Background()
	const ch = "presence-room.1"
	if err := a.Join(ctx, "app", ch, "1.1", Member{UserID: "u1", UserInfo: []byte(`{"name":"A"}`)}); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		r.want(t, "added app presence-room.1 u1 by n0/1.1")
	}
	// A second tab of the same user on the other node is not a new member.
	b.Join(ctx, "app", ch, "2.1", Member{UserID: "u1", UserInfo: []byte(`{"name":"A"}`)})
	b.Join(ctx, "app", ch, "2.2", Member{UserID: "u2"})
	for _, r := range rs {
		r.want(t, "added app presence-room.1 u2 by n1/2.2")
	}
	if got := b.UserCount("app", ch); got != 2 {
		t.Fatalf("user count %d, want 2", got)
	}
	if ms := a.Members("app", ch); len(ms) != 2 || ms[0].UserID != "u1" || string(ms[0].UserInfo) != `{"name":"A"}` {
		t.Fatalf("members %+v, want u1 (with info) then u2", ms)
	}
	a.Leave(ctx, "app", ch, "1.1")
	rs[0].none(t, 200*time.Millisecond) // u1 still has a tab on node b
	b.Leave(ctx, "app", ch, "2.1")
	for _, r := range rs {
		r.want(t, "removed app presence-room.1 u1")
	}
	if a.Present("app", ch, "u1") || !a.Present("app", ch, "u2") {
		t.Fatal("present: want u2 only")
	}
}

func TestOccupancyIsClusterWide(t *testing.T) {
	ts, rs, _ := startNodes(t, 2, 5*time.Second)
	ts[0].SetCount("app", "c", 1)
	rs[1].want(t, "occupied app c")
	ts[1].SetCount("app", "c", 3)
	ts[0].SetCount("app", "c", 2) // batched
	deadline := time.Now().Add(5 * time.Second)
	for ts[1].SubscriptionCount("app", "c") != 5 {
		if time.Now().After(deadline) {
			t.Fatalf("subscription count %d, want 5", ts[1].SubscriptionCount("app", "c"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	ts[0].SetCount("app", "c", 0)
	rs[1].none(t, 200*time.Millisecond) // node 1 still has subscribers
	ts[1].SetCount("app", "c", 0)
	rs[0].want(t, "occupied app c", "vacated app c")
	if names, _ := ts[0].Channels("app", ""); len(names) != 0 {
		t.Fatalf("channels %v, want none", names)
	}
}

// TestDeadNodeKeysExpire stops one node's refresh (as kill -9 would) and
// checks that the other node sees its members leave and its channel vacate.
func TestDeadNodeKeysExpire(t *testing.T) {
	ts, rs, cancels := startNodes(t, 2, time.Second)
	ctx := context.Background()
	ts[0].Join(ctx, "app", "presence-x", "1.1", Member{UserID: "ghost"})
	ts[0].SetCount("app", "presence-x", 1)
	rs[1].wantAll(t, "added app presence-x ghost by n0/1.1", "occupied app presence-x")
	// The live node keeps its own key through several TTLs.
	ts[1].Join(ctx, "app", "presence-x", "2.1", Member{UserID: "alive"})
	rs[1].want(t, "added app presence-x alive by n1/2.1")
	cancels[0]()
	start := time.Now()
	rs[1].wantAll(t, "removed app presence-x ghost", "vacated app presence-x")
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("dead node's keys expired after %s, want about the 1s TTL", d)
	}
	rs[1].none(t, 2500*time.Millisecond)
	if !ts[1].Present("app", "presence-x", "alive") {
		t.Fatal("live node's member expired although it refreshes")
	}
}

// TestBucketLossIsRepaired deletes the bucket under running trackers (as a
// NATS restart with memory storage did): the watchers restart, the bucket is
// declared again, each node writes its keys again, and the views agree.
func TestBucketLossIsRepaired(t *testing.T) {
	ts, rs, _ := startNodes(t, 2, 5*time.Second)
	ctx := context.Background()
	ts[0].Join(ctx, "app", "presence-r", "1.1", Member{UserID: "a"})
	ts[1].Join(ctx, "app", "presence-r", "2.1", Member{UserID: "b"})
	rs[0].wantAll(t, "added app presence-r a by n0/1.1", "added app presence-r b by n1/2.1")
	if err := ts[0].js.DeleteKeyValue(ctx, "PUSHD_PRESENCE"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		// The bucket holds both members' keys again (declared anew and
		// written by each node's refresh) and both views are whole.
		keys, _ := ts[1].bucket().ListKeys(ctx)
		n := 0
		if keys != nil {
			for k := range keys.Keys() {
				if strings.HasPrefix(k, "m.") {
					n++
				}
			}
		}
		ok := n == 2
		for _, tr := range ts {
			ok = ok && tr.Healthy() == nil && tr.Present("app", "presence-r", "a") && tr.Present("app", "presence-r", "b")
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("views not repaired: healthy %v/%v, node 0 members %v", ts[0].Healthy(), ts[1].Healthy(), ts[0].Members("app", "presence-r"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
