package e2e

// Fan-out figures of one gateway and of three gateways, same load, same run
// (docs/benchmarks.md). Not part of `go test ./...`; run with
//
//	go test -run '^$' -bench ClusterFanout -benchtime 1x -timeout 15m ./e2e
//
// Sizes: BENCH_SUBS (1000 sockets), BENCH_CHANNELS (10), BENCH_RATE (200
// events/s in total), BENCH_SECONDS (20). Latency is end to end: the
// publisher puts its clock (UnixNano) in the event's data, the subscriber
// (same process, same clock) subtracts it on arrival.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pushd/pushd/internal/gws"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// latHist counts latencies in 100 µs buckets up to 10 s.
type latHist struct{ b [100000]atomic.Int64 }

func (h *latHist) add(d time.Duration) {
	i := int(d / (100 * time.Microsecond))
	if i < 0 {
		i = 0
	}
	if i >= len(h.b) {
		i = len(h.b) - 1
	}
	h.b[i].Add(1)
}

// q returns the q-quantile in milliseconds and the count.
func (h *latHist) q(q float64) (float64, int64) {
	var n int64
	for i := range h.b {
		n += h.b[i].Load()
	}
	if n == 0 {
		return 0, 0
	}
	want := int64(q * float64(n))
	var c int64
	for i := range h.b {
		c += h.b[i].Load()
		if c > want {
			return float64(i+1) / 10, n
		}
	}
	return float64(len(h.b)) / 10, n
}

type benchSub struct {
	gws.BuiltinEventHandler
	lat     *latHist
	got     *atomic.Int64
	ready   chan struct{}
	readyed atomic.Bool
}

var dataKey = []byte(`"data":"`)

func (h *benchSub) OnMessage(_ *gws.Conn, m *gws.Message) {
	defer m.Close()
	b := m.Bytes()
	if bytes.Contains(b, []byte(`"pusher_internal:subscription_succeeded"`)) {
		if h.readyed.CompareAndSwap(false, true) {
			close(h.ready)
		}
		return
	}
	if !bytes.Contains(b, []byte(`"event":"b"`)) {
		return
	}
	i := bytes.Index(b, dataKey)
	if i < 0 {
		return
	}
	rest := b[i+len(dataKey):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return
	}
	ns, err := strconv.ParseInt(string(rest[:j]), 10, 64)
	if err != nil {
		return
	}
	h.lat.add(time.Duration(time.Now().UnixNano() - ns))
	h.got.Add(1)
}

// procCPU is the CPU seconds (user+system) a process has used so far.
func procCPU(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100 // USER_HZ
}

// fanoutRun connects subs sockets spread over the gateways' WebSocket ports,
// each on one of chans channels, publishes rate events/s for secs seconds
// round-robin over the gateways' APIs and channels, and reports latency.
func fanoutRun(b *testing.B, label string, gwsList []*server, pids []int, subs, chans, rate, secs int) string {
	b.Helper()
	var lat, apiLat latHist
	var got atomic.Int64
	var conns []*gws.Conn
	sem := make(chan struct{}, 32)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var dialErr atomic.Value
	for i := 0; i < subs; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			h := &benchSub{lat: &lat, got: &got, ready: make(chan struct{})}
			g := gwsList[i%len(gwsList)]
			c, _, err := gws.NewClient(h, &gws.ClientOption{Addr: g.WSURL("app-key") + "?protocol=7", HandshakeTimeout: 10 * time.Second})
			if err != nil {
				dialErr.Store(err)
				return
			}
			go c.ReadLoop()
			c.WriteString(fmt.Sprintf(`{"event":"pusher:subscribe","data":{"channel":"bench-%d"}}`, i%chans))
			select {
			case <-h.ready:
			case <-time.After(20 * time.Second):
				dialErr.Store(fmt.Errorf("socket %d not subscribed", i))
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}()
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			c.WriteClose(1000, nil)
		}
	}()
	if err := dialErr.Load(); err != nil {
		b.Fatalf("%s: setup: %v", label, err)
	}
	cpu0 := 0.0
	for _, p := range pids {
		cpu0 += procCPU(p)
	}
	hc := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	total := rate * secs
	every := time.Second / time.Duration(rate)
	tick := time.NewTicker(every)
	var failed atomic.Int64
	var pw sync.WaitGroup
	start := time.Now()
	for i := 0; i < total; i++ {
		<-tick.C
		pw.Add(1)
		go func() {
			defer pw.Done()
			body := fmt.Sprintf(`{"name":"b","channel":"bench-%d","data":"%d"}`, i%chans, time.Now().UnixNano())
			t0 := time.Now()
			if apiStatus(hc, gwsList[i%len(gwsList)], body) != http.StatusOK {
				failed.Add(1)
			}
			apiLat.add(time.Since(t0))
		}()
	}
	tick.Stop()
	pw.Wait()
	elapsed := time.Since(start)
	expected := int64(total-int(failed.Load())) * int64(subs/chans)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for got.Load() < expected && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	cpu := 0.0
	for _, p := range pids {
		cpu += procCPU(p)
	}
	p50, n := lat.q(0.50)
	p90, _ := lat.q(0.90)
	p99, _ := lat.q(0.99)
	p999, _ := lat.q(0.999)
	a50, _ := apiLat.q(0.50)
	a99, _ := apiLat.q(0.99)
	return fmt.Sprintf("%-34s delivered %d/%d (%.0f/s), failed API %d; end-to-end ms p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f; API ms p50 %.1f p99 %.1f; server CPU %.1f s (%.0f%% of one core)",
		label, n, expected, float64(n)/elapsed.Seconds(), failed.Load(), p50, p90, p99, p999, a50, a99, cpu-cpu0, 100*(cpu-cpu0)/elapsed.Seconds())
}

func BenchmarkClusterFanout(b *testing.B) {
	subs, chans := envInt("BENCH_SUBS", 1000), envInt("BENCH_CHANNELS", 10)
	rate, secs := envInt("BENCH_RATE", 200), envInt("BENCH_SECONDS", 20)
	var lines []string
	for i := 0; i < b.N; i++ {
		// A: the single-node deployment, embedded NATS.
		single := launchGateways(b, "")[0]
		lines = append(lines, fanoutRun(b, "1 gateway, embedded NATS (R1)", []*server{single}, []int{single.cmd.Process.Pid}, subs, chans, rate, secs))
		single.cmd.Process.Signal(os.Interrupt)
		<-single.done

		// B and C on one 3-node NATS cluster (streams R3).
		nc := startNATSCluster(b, 3)
		gs := clusterGateways(b, nc, 3)
		var natsPids []int
		for _, n := range nc.Nodes {
			natsPids = append(natsPids, n.cmd.Process.Pid)
		}
		lines = append(lines, fanoutRun(b, "1 gateway, 3-node NATS (R3)", gs[:1], append([]int{gs[0].cmd.Process.Pid}, natsPids...), subs, chans, rate, secs))
		lines = append(lines, fanoutRun(b, "3 gateways, 3-node NATS (R3)", gs, append([]int{gs[0].cmd.Process.Pid, gs[1].cmd.Process.Pid, gs[2].cmd.Process.Pid}, natsPids...), subs, chans, rate, secs))
	}
	b.Logf("fan-out, %d sockets over %d channels, %d events/s for %d s (%d cores):\n%s", subs, chans, rate, secs, numCPU(), strings.Join(lines, "\n"))
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return bytes.Count(b, []byte("processor\t:"))
}
