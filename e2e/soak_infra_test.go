//go:build soak

package e2e

// Infrastructure of the soak test (soak_test.go): one external nats-server
// that can be stopped and started again on the same port and store, the
// gateways' /metrics and /proc numbers, non-fatal signed API reads, and a
// transport that watches the raw frames each Go client receives.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/wasmclient"
)

// ---------------------------------------------------------------- NATS

// soakNATS is a single nats-server with JetStream (file store), built from
// the module by natsServerBin (natscluster_helpers_test.go).
type soakNATS struct {
	node *natsNode
	bin  string
	logs []string // logs of earlier runs of the process
}

func startSoakNATS(t *testing.T) *soakNATS {
	t.Helper()
	s := &soakNATS{bin: natsServerBin(t)}
	dir := t.TempDir()
	n := &natsNode{Name: "soak", Port: anyPort(t), HTTPPort: anyPort(t)}
	n.conf = filepath.Join(dir, "nats.conf")
	conf := fmt.Sprintf(`server_name: soak
listen: 127.0.0.1:%d
http: 127.0.0.1:%d
jetstream {
  store_dir: %q
  max_memory_store: 256MB
  max_file_store: 4GB
}
`, n.Port, n.HTTPPort, filepath.Join(dir, "js"))
	if err := os.WriteFile(n.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	s.node = n
	n.start(t, s.bin)
	t.Cleanup(func() {
		n.kill()
		if t.Failed() {
			t.Logf("nats-server log (tail):\n%s", tail(n.log.String(), 4000))
		}
	})
	s.waitJetStream(t)
	return s
}

func (s *soakNATS) URL() string { return s.node.URL() }

func (s *soakNATS) waitJetStream(t *testing.T) {
	t.Helper()
	(&natsCluster{Nodes: []*natsNode{s.node}}).waitJetStream(t, 60*time.Second)
}

// stop ends nats-server gracefully (SIGTERM), bounded: SIGKILL after 20 s.
func (s *soakNATS) stop() {
	n := s.node
	select {
	case <-n.done:
		return
	default:
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(20 * time.Second):
		n.kill()
	}
	s.logs = append(s.logs, n.log.String())
}

// start runs nats-server again with the same config: same port, same store.
func (s *soakNATS) start(t *testing.T) {
	t.Helper()
	s.node.start(t, s.bin)
	s.waitJetStream(t)
}

// streams lists the JetStream streams (KV buckets are KV_<name>) with their
// storage and message count: a diagnostic for what survived a restart.
func (s *soakNATS) streams() []string {
	nc, err := nats.Connect(s.URL(), nats.Timeout(3*time.Second), nats.NoReconnect())
	if err != nil {
		return []string{"connect: " + err.Error()}
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return []string{err.Error()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []string
	l := js.ListStreams(ctx)
	for info := range l.Info() {
		out = append(out, fmt.Sprintf("%s(%s,%d msgs)", info.Config.Name, info.Config.Storage, info.State.Msgs))
	}
	if err := l.Err(); err != nil {
		out = append(out, "list: "+err.Error())
	}
	sort.Strings(out)
	return out
}

// ---------------------------------------------------------------- metrics

// gwStats is one reading of a gateway's health numbers.
type gwStats struct {
	Goroutines      int     `json:"goroutines"`
	RSSMB           float64 `json:"rss_mb"`
	HeapInuseMB     float64 `json:"heap_inuse_mb"`
	Connections     int     `json:"connections"`
	Subscriptions   int     `json:"subscriptions"`
	Channels        int     `json:"channels"`
	PresenceSockets int     `json:"presence_member_sockets"`
	NATSConnected   int     `json:"nats_connected"`
	SlowConsumers   int     `json:"slow_consumers"`
}

var metricsClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// scrapeMetrics reads /metrics: every sample, keyed by name{labels}.
func scrapeMetrics(s *server) (map[string]float64, error) {
	resp, err := metricsClient.Get(s.APIURL() + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return nil, fmt.Errorf("/metrics: %d", resp.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err != nil {
			continue
		}
		out[l[:i]] = v
	}
	return out, sc.Err()
}

// metricSum adds every series of a metric name (all label sets).
func metricSum(m map[string]float64, name string) float64 {
	var sum float64
	for k, v := range m {
		if k == name || strings.HasPrefix(k, name+"{") {
			sum += v
		}
	}
	return sum
}

// procRSS reads VmRSS of a process from /proc (bytes).
func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS")
}

// readStats reads a gateway's metrics; RSS from /proc (the same number as
// process_resident_memory_bytes, without the scrape's own allocations).
func readStats(s *server) (gwStats, error) {
	m, err := scrapeMetrics(s)
	if err != nil {
		return gwStats{}, err
	}
	st := gwStats{
		Goroutines:      int(metricSum(m, "go_goroutines")),
		RSSMB:           metricSum(m, "process_resident_memory_bytes") / (1 << 20),
		HeapInuseMB:     metricSum(m, "go_memstats_heap_inuse_bytes") / (1 << 20),
		Connections:     int(metricSum(m, "pushd_connections")),
		Subscriptions:   int(metricSum(m, "pushd_subscriptions")),
		Channels:        int(metricSum(m, "pushd_channels")),
		PresenceSockets: int(metricSum(m, "pushd_presence_member_sockets")),
		NATSConnected:   int(metricSum(m, "pushd_nats_connected")),
		SlowConsumers:   int(metricSum(m, "pushd_slow_consumers_total")),
	}
	if rss, err := procRSS(s.cmd.Process.Pid); err == nil {
		st.RSSMB = float64(rss) / (1 << 20)
	}
	st.RSSMB = round1(st.RSSMB)
	st.HeapInuseMB = round1(st.HeapInuseMB)
	return st, nil
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// ---------------------------------------------------------------- API

// soakAPI sends a signed API request without failing the test: status 0 on
// a network error.
func soakAPI(hc *http.Client, s *server, method, path string, params url.Values, body string) (int, string) {
	q := protocol.SignRequest("app-key", "app-secret", method, path, params, []byte(body), time.Now())
	req, err := http.NewRequest(method, s.APIURL()+path+"?"+q.Encode(), strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}

func readyz(hc *http.Client, s *server) int {
	resp, err := hc.Get(s.APIURL() + "/readyz")
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// ---------------------------------------------------------------- wire

// soakWire wraps the gws transport of one client and checks the raw frames
// the server sends, below the client's own de-duplication: per channel,
// the stream positions (seq) of events must grow, across reconnects too
// (resume promises no duplicate). A new subscription episode resets the
// channel (reset).
type soakWire struct {
	inner wasmclient.Transport

	mu     sync.Mutex
	last   map[string]uint64
	stale  int      // event frames whose seq was not above the channel's last
	sample []string // a few of them
	frames int64
}

func newSoakWire() *soakWire {
	return &soakWire{inner: wasmclient.GWSTransport{}, last: map[string]uint64{}}
}

func (w *soakWire) Dial(ctx context.Context, url string, onMessage func([]byte), onClose func(int, string)) (wasmclient.Conn, error) {
	return w.inner.Dial(ctx, url, func(b []byte) {
		w.observe(b)
		onMessage(b)
	}, onClose)
}

func (w *soakWire) observe(b []byte) {
	e, err := protocol.ParseEvent(b)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.frames++
	if err != nil || e.Seq == 0 || e.Channel == "" || strings.HasPrefix(e.Event, "pusher") {
		return // subscription_succeeded carries the stream position, not an event's
	}
	if e.Seq <= w.last[e.Channel] {
		w.stale++
		if len(w.sample) < 5 {
			w.sample = append(w.sample, fmt.Sprintf("%s seq %d after %d (%s %q)", e.Channel, e.Seq, w.last[e.Channel], e.Event, e.Data))
		}
		return
	}
	w.last[e.Channel] = e.Seq
}

func (w *soakWire) reset(ch string) {
	w.mu.Lock()
	delete(w.last, ch)
	w.mu.Unlock()
}
