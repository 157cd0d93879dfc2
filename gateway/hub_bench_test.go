package gateway

import (
	"context"
	"log/slog"
	"strconv"
	"testing"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/metrics"
)

// fanoutHub builds a hub on a real embedded bus with n subscribers of one
// channel whose outboxes only queue (no writer goroutine, no socket), so
// that the benchmark measures the hub's own work per recipient.
func fanoutHub(b testing.TB, n int) (*hub, []*client) {
	b.Helper()
	bs, err := bus.Open(context.Background(), bus.Options{DataDir: b.TempDir(), Logger: slog.New(slog.DiscardHandler)}, func(bus.Delivery) {})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(bs.Close)
	if err := bs.EnsureApp(context.Background(), bus.AppStream{Key: "k"}); err != nil {
		b.Fatal(err)
	}
	h := newHub(bs, func(string, string, int) {})
	a := &app{App: config.App{Key: "k"}, Runtime: &apps.Runtime{Metrics: metrics.New().ForApp("k")}}
	clients := make([]*client, n)
	for i := range clients {
		c := &client{socketID: "1." + strconv.Itoa(i)}
		c.appPtr.Store(a)
		c.out.writing = true // no writer: frames stay queued
		c.out.q = make([][]byte, 0, 64)
		s, err := h.join(c, "k", "ch")
		if err != nil {
			b.Fatal(err)
		}
		s.release(0)
		clients[i] = c
	}
	return h, clients
}

// BenchmarkFanout delivers one event to 1,000 local subscribers; allocs/op
// is per event, so 0 means nothing is allocated per recipient.
func BenchmarkFanout(b *testing.B) {
	const n = 1000
	h, clients := fanoutHub(b, n)
	d := delivery{Delivery: bus.Delivery{App: "k", Channel: "ch", Frame: []byte(`{"event":"e","channel":"ch","data":"{}","seq":1}`), Seq: 1}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.deliver(d)
		if i%64 == 63 {
			b.StopTimer()
			for _, c := range clients {
				c.out.q = c.out.q[:0]
				c.out.bytes = 0
			}
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/recipient")
}

func TestFanoutAllocatesNothingPerRecipient(t *testing.T) {
	h, clients := fanoutHub(t, 1000)
	d := delivery{Delivery: bus.Delivery{App: "k", Channel: "ch", Frame: []byte(`{"event":"e"}`), Seq: 1}}
	allocs := testing.AllocsPerRun(50, func() {
		h.deliver(d)
		for _, c := range clients {
			c.out.q = c.out.q[:0]
		}
	})
	if allocs > 0 {
		t.Fatalf("fan-out to 1,000 subscribers allocates %v times per event, want 0", allocs)
	}
	if got := len(clients[999].out.q); got != 0 {
		t.Fatalf("queue not reset: %d", got)
	}
}
