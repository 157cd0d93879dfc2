package stats

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/metrics"
)

// TestSamplerCountsSeconds: the first sample only takes the starting point;
// later ones give the gauges as they are and what the counters added since
// the sample before, per app and for all apps, and the API's requests.
func TestSamplerCountsSeconds(t *testing.T) {
	m := metrics.New()
	table := apps.NewTable([]config.App{{Key: "a", Secret: "s"}, {Key: "b", Secret: "s"}, {Key: "idle", Secret: "s"}}, m)
	a, b := table.Get("a").Metrics, table.Get("b").Metrics
	a.APIEvents.Add(100) // before the first sample: not in any second
	s := sampler{opts: &Options{Node: "1", Name: "n", Apps: table, Metrics: m}}
	if _, ok := s.sample(context.Background(), 10); ok {
		t.Fatal("the first sample was given: it has no second before it")
	}
	a.Connections.Add(2)
	a.APIEvents.Add(3)
	a.Client.Add(1)
	a.Delivered.Add(8)
	b.Subscriptions.Add(5)
	m.HTTPRequests.WithLabelValues("/apps/{app}/events", "200").Add(4)
	m.HTTPRequests.WithLabelValues("/apps/{app}/events", "413").Inc()
	smp, ok := s.sample(context.Background(), 11)
	if !ok || smp.T != 11 || smp.Node != "1" || smp.Name != "n" {
		t.Fatalf("second sample: %+v %v", smp, ok)
	}
	if got, want := smp.Apps["a"], (Figures{Connections: 2, In: 4, Out: 8}); got != want {
		t.Errorf("app a: got %+v, want %+v", got, want)
	}
	if got, want := smp.All, (Figures{Connections: 2, Subscriptions: 5, In: 4, Out: 8}); got != want {
		t.Errorf("all apps: got %+v, want %+v", got, want)
	}
	if _, named := smp.Apps["idle"]; named {
		t.Error("an idle app is named in the sample")
	}
	if smp.API != 5 || smp.APIFailed != 1 {
		t.Errorf("API: got %v requests, %v failed; want 5, 1", smp.API, smp.APIFailed)
	}
	smp, _ = s.sample(context.Background(), 12)
	if got, want := smp.Apps["a"], (Figures{Connections: 2}); got != want || smp.API != 0 {
		t.Errorf("a quiet second: app a %+v (want %+v), API %v (want 0)", got, want, smp.API)
	}
}

// TestStatsAcrossNodes: two nodes on one NATS each send their samples and
// each one's graphs add both up: the connections of the two nodes, and
// both nodes listed by name.
func TestStatsAcrossNodes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	b, err := bus.Open(ctx, bus.Options{DataDir: t.TempDir(), Logger: log}, func(bus.Delivery) {})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var nodes []*Stats
	for i, conns := range []float64{3, 4} {
		m := metrics.New()
		table := apps.NewTable([]config.App{{Key: "k", Secret: "s"}}, m)
		table.Get("k").Metrics.Connections.Add(conns)
		st := New(Options{Node: strconv.Itoa(i + 1), Name: "node-" + strconv.Itoa(i+1), Apps: table, Metrics: m, Bus: b, Logger: log})
		go st.Run(ctx)
		nodes = append(nodes, st)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, st := range nodes {
		for {
			s := st.Series("k", false)
			last := s.Connections[len(s.Connections)-1]
			if last == 7 && len(s.Nodes) == 2 && s.Nodes[0].Name == "node-1" && s.Nodes[1].Name == "node-2" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s: connections %v with nodes %+v, want 7 from node-1 and node-2", st.opts.Node, last, s.Nodes)
			}
			time.Sleep(100 * time.Millisecond) // polling, bounded by the deadline
		}
	}
}
