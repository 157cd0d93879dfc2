package presence

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pushd/pushd/bus"
)

// counter is a Listener that counts member transitions.
type counter struct{ added, removed atomic.Int64 }

func (c *counter) MemberAdded(string, string, Member, Socket, uint64) { c.added.Add(1) }
func (c *counter) MemberRemoved(string, string, string, uint64)       { c.removed.Add(1) }
func (c *counter) Occupied(string, string, uint64)                    {}
func (c *counter) Vacated(string, string, uint64)                     {}
func (c *counter) CountChanged(string, string, int, uint64)           {}

// benchTracker runs one tracker, with its watcher, on an embedded NATS.
func benchTracker(b *testing.B) (*Tracker, *counter) {
	b.Helper()
	bs, err := bus.Open(context.Background(), bus.Options{DataDir: b.TempDir()}, func(bus.Delivery) {})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(bs.Close)
	tr, err := New(context.Background(), bs.JetStream(), Options{Node: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	c := &counter{}
	go tr.Run(ctx, c)
	select {
	case <-tr.Ready():
	case <-time.After(10 * time.Second):
		b.Fatal("tracker not ready")
	}
	return tr, c
}

// waitFor waits (bounded) until the watcher reported n transitions of a
// kind: the work measured includes the watcher keeping up.
func waitFor(b *testing.B, what string, got *atomic.Int64, n int64) {
	b.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for got.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("watcher reported %d of %d %s", got.Load(), n, what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// joinLeave makes b.N members (new users spread over 100 presence
// channels) join, waits until the watcher reported every member_added,
// then makes them leave and waits for every member_removed, with workers
// goroutines calling Join/Leave. A member's own join and leave are kept
// apart because a key put and deleted before the watcher reads it is
// (correctly) never reported, which would leave nothing to wait for.
func joinLeave(b *testing.B, workers int) {
	tr, c := benchTracker(b)
	ctx := context.Background()
	added0, removed0 := c.added.Load(), c.removed.Load()
	name := func(i int64) (string, string) { return fmt.Sprintf("presence-%d", i%100), fmt.Sprintf("1.%d", i) }
	phase := func(op func(i int64) error) {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
					if err := op(i); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	b.ReportAllocs()
	b.ResetTimer()
	phase(func(i int64) error {
		ch, sock := name(i)
		return tr.Join(ctx, "app", ch, sock, Member{UserID: "u" + sock, UserInfo: []byte(`{"name":"x"}`)})
	})
	waitFor(b, "member_added", &c.added, added0+int64(b.N))
	phase(func(i int64) error {
		ch, sock := name(i)
		return tr.Leave(ctx, "app", ch, sock)
	})
	waitFor(b, "member_removed", &c.removed, removed0+int64(b.N))
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "members/s")
}

// BenchmarkJoinLeave: one op is one member joining and leaving a presence
// channel through Tracker.Join/Leave on an embedded NATS, one call at a
// time, until the watcher has reported both transitions.
func BenchmarkJoinLeave(b *testing.B) { joinLeave(b, 1) }

// BenchmarkJoinLeaveParallel is BenchmarkJoinLeave with 64 sockets joining
// and leaving at once, as on a busy gateway.
func BenchmarkJoinLeaveParallel(b *testing.B) { joinLeave(b, 64) }

// BenchmarkRefresh: one op rewrites the keys of 2,000 presence members and
// 100 channel counts, as a gateway does every TTL/3 to keep them alive.
func BenchmarkRefresh(b *testing.B) {
	tr, c := benchTracker(b)
	ctx := context.Background()
	const members = 2000
	for i := range members {
		ch := fmt.Sprintf("presence-%d", i%100)
		if err := tr.Join(ctx, "app", ch, fmt.Sprintf("1.%d", i), Member{UserID: fmt.Sprintf("u%d", i)}); err != nil {
			b.Fatal(err)
		}
		tr.SetCount("app", ch, i/100+1)
	}
	waitFor(b, "member_added", &c.added, members)
	b.ResetTimer()
	for range b.N {
		tr.refresh(ctx)
	}
	b.StopTimer()
	b.ReportMetric(float64(members+100)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
}
