package e2e

// Helpers of the clustered-mode tests (natscluster_*_test.go): a real
// 3-node nats-server cluster with JetStream (the binary built from the
// nats-server module in go.mod), pushd gateways on it, and a tiny TCP
// round-robin balancer in front of the gateways.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/pushd/pushd/gateway/protocol"
)

var (
	natsBinOnce sync.Once
	natsBinPath string
	natsBinErr  error
)

// natsServerBin builds nats-server from the module once per test binary.
// The binary is cached under os.TempDir, keyed by go.sum's hash, so later
// runs with the same dependencies skip the build.
func natsServerBin(t testing.TB) string {
	t.Helper()
	natsBinOnce.Do(func() {
		sum, err := os.ReadFile("../go.sum")
		if err != nil {
			natsBinErr = err
			return
		}
		h := sha256.Sum256(sum)
		dir := filepath.Join(os.TempDir(), "pushd-nats-server-"+hex.EncodeToString(h[:8]))
		natsBinPath = filepath.Join(dir, "nats-server")
		if st, err := os.Stat(natsBinPath); err == nil && st.Mode()&0o111 != 0 {
			return
		}
		if natsBinErr = os.MkdirAll(dir, 0o755); natsBinErr != nil {
			return
		}
		tmp := natsBinPath + ".tmp" + strconv.Itoa(os.Getpid())
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", tmp, "github.com/nats-io/nats-server/v2").CombinedOutput()
		if err != nil {
			natsBinErr = fmt.Errorf("build nats-server: %v\n%s", err, out)
			return
		}
		natsBinErr = os.Rename(tmp, natsBinPath) // atomic: a concurrent run sees a whole binary or none
	})
	if natsBinErr != nil {
		t.Fatal(natsBinErr)
	}
	return natsBinPath
}

// natsNode is one nats-server process of a test cluster.
type natsNode struct {
	Name                        string
	Port, ClusterPort, HTTPPort int
	conf                        string
	cmd                         *exec.Cmd
	done                        chan struct{}
	log                         *syncBuffer
}

func (n *natsNode) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(n.Port) }

// natsCluster is a JetStream cluster of nats-server processes on loopback.
type natsCluster struct {
	Nodes []*natsNode
}

// startNATSCluster starts n clustered nats-server processes with JetStream
// (file storage under a test temp dir) and waits until a JetStream API call
// succeeds, i.e. the meta leader is elected. Every process is killed at the
// end of the test.
func startNATSCluster(t testing.TB, n int) *natsCluster {
	t.Helper()
	bin := natsServerBin(t)
	dir := t.TempDir()
	c := &natsCluster{}
	for i := 0; i < n; i++ {
		c.Nodes = append(c.Nodes, &natsNode{Name: "n" + strconv.Itoa(i+1), Port: anyPort(t), ClusterPort: anyPort(t), HTTPPort: anyPort(t)})
	}
	var routes []string
	for _, nd := range c.Nodes {
		routes = append(routes, "nats-route://127.0.0.1:"+strconv.Itoa(nd.ClusterPort))
	}
	for _, nd := range c.Nodes {
		nd.conf = filepath.Join(dir, nd.Name+".conf")
		conf := fmt.Sprintf(`server_name: %s
listen: 127.0.0.1:%d
http: 127.0.0.1:%d
jetstream {
  store_dir: %q
  max_memory_store: 256MB
  max_file_store: 2GB
}
`, nd.Name, nd.Port, nd.HTTPPort, filepath.Join(dir, nd.Name))
		if n > 1 { // one node is a plain server: a cluster of one waits for routes forever
			conf += fmt.Sprintf(`cluster {
  name: pushd-test
  no_advertise: true
  listen: 127.0.0.1:%d
  routes: [%s]
}
`, nd.ClusterPort, strings.Join(routes, ", "))
		}
		if err := os.WriteFile(nd.conf, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		nd.start(t, bin)
	}
	t.Cleanup(func() {
		for _, nd := range c.Nodes {
			nd.kill()
		}
		if t.Failed() {
			for _, nd := range c.Nodes {
				t.Logf("nats-server %s log (tail):\n%s", nd.Name, tail(nd.log.String(), 3000))
			}
		}
	})
	c.waitJetStream(t, 60*time.Second)
	return c
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func (n *natsNode) start(t testing.TB, bin string) {
	t.Helper()
	n.log = &syncBuffer{}
	n.cmd = exec.Command(bin, "-c", n.conf)
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	n.done = make(chan struct{})
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start nats-server %s: %v", n.Name, err)
	}
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(n.cmd, n.done)
}

// kill ends the process with SIGKILL (a crash) and waits for it.
func (n *natsNode) kill() {
	select {
	case <-n.done:
		return
	default:
	}
	n.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
	}
}

// URLs is the comma-separated seed list gateways get as nats_url.
func (c *natsCluster) URLs() string {
	var u []string
	for _, n := range c.Nodes {
		u = append(u, n.URL())
	}
	return strings.Join(u, ",")
}

// alive are the nodes still running.
func (c *natsCluster) alive() []*natsNode {
	var out []*natsNode
	for _, n := range c.Nodes {
		select {
		case <-n.done:
		default:
			out = append(out, n)
		}
	}
	return out
}

// connect opens a NATS client on the live nodes (closed at the end of the test).
func (c *natsCluster) connect(t testing.TB) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	var u []string
	for _, n := range c.alive() {
		u = append(u, n.URL())
	}
	nc, err := nats.Connect(strings.Join(u, ","), nats.Name("e2e-check"), nats.MaxReconnects(-1), nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatalf("connect to the nats cluster: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// waitJetStream waits until JetStream answers an API call through every
// live node.
func (c *natsCluster) waitJetStream(t testing.TB, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for _, n := range c.alive() {
		var last error
		for {
			last = func() error {
				nc, err := nats.Connect(n.URL(), nats.Timeout(2*time.Second), nats.NoReconnect())
				if err != nil {
					return err
				}
				defer nc.Close()
				js, err := jetstream.New(nc)
				if err != nil {
					return err
				}
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				_, err = js.AccountInfo(ctx)
				return err
			}()
			if last == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("JetStream not ready through %s after %s: %v", n.Name, within, last)
			}
			time.Sleep(200 * time.Millisecond) // polling interval of a bounded wait
		}
	}
}

// pushdConns counts the connections named "pushd" a node holds (/connz).
func (n *natsNode) pushdConns() int {
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(n.HTTPPort) + "/connz?limit=1024")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var d struct {
		Connections []struct {
			Name string `json:"name"`
		} `json:"connections"`
	}
	json.NewDecoder(resp.Body).Decode(&d)
	k := 0
	for _, c := range d.Connections {
		if c.Name == "pushd" {
			k++
		}
	}
	return k
}

// clusterApps is the one app of the cluster tests (the credentials of
// testApps' first app, which nodeEnv hands to node scripts).
const clusterApps = `
apps:
  - id: "1"
    key: app-key
    secret: app-secret
`

// newGateway prepares (does not start) a gateway with clusterApps whose
// nats_url is natsURLs ("" = embedded NATS).
func newGateway(t testing.TB, natsURLs string) *server {
	t.Helper()
	dir := t.TempDir()
	s := &server{
		WSAddr:  "127.0.0.1:" + strconv.Itoa(anyPort(t)),
		APIAddr: "127.0.0.1:" + strconv.Itoa(anyPort(t)),
		DataDir: filepath.Join(dir, "data"),
		log:     &syncBuffer{},
	}
	s.ConfigPath = filepath.Join(dir, "pushd.yaml")
	cfg := clusterApps + "\npong_timeout: 2s\n"
	if natsURLs != "" {
		cfg += "nats_url: " + natsURLs + "\n"
	}
	if err := os.WriteFile(s.ConfigPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// launchGateways starts one gateway per NATS URL list at the same moment,
// as a deployment would (they race to create the same streams and
// buckets), and waits until each is ready.
func launchGateways(t testing.TB, natsURLs ...string) []*server {
	t.Helper()
	var gws []*server
	for _, u := range natsURLs {
		gws = append(gws, newGateway(t, u))
	}
	for _, s := range gws {
		s.launch(t, []string{"--config", s.ConfigPath})
	}
	for _, s := range gws {
		s.waitReady(t)
	}
	return gws
}

// clusterGateways starts n gateways with every seed of the cluster.
func clusterGateways(t testing.TB, c *natsCluster, n int) []*server {
	t.Helper()
	urls := make([]string, n)
	for i := range urls {
		urls[i] = c.URLs()
	}
	return launchGateways(t, urls...)
}

// spawn is server.start for any testing.TB (benchmarks too): it starts
// pushd, stops it at the end, and waits for /readyz.
func (s *server) spawn(t testing.TB, args []string) {
	t.Helper()
	s.launch(t, args)
	s.waitReady(t)
}

// launch starts pushd (stopped with SIGTERM at the end of the test).
func (s *server) launch(t testing.TB, args []string) {
	t.Helper()
	all := append([]string{"--ws-addr", s.WSAddr, "--api-addr", s.APIAddr, "--data-dir", s.DataDir}, args...)
	s.cmd = exec.Command(pushdBin, all...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.done = make(chan struct{})
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start pushd: %v", err)
	}
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(s.cmd, s.done)
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(15 * time.Second):
				s.cmd.Process.Kill()
				<-s.done
				t.Errorf("pushd did not exit within 15s of SIGTERM")
			}
		}
		if t.Failed() {
			t.Logf("pushd log:\n%s", tail(s.log.String(), 6000))
		}
	})
}

// waitReady waits (bounded) until /readyz answers 200.
func (s *server) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.APIURL() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-s.done:
			t.Fatalf("pushd exited before ready:\n%s", s.log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("pushd not ready after 30s:\n%s", s.log.String())
		}
	}
}

// ---------------------------------------------------------------- balancer

// rrBalancer is a TCP round-robin load balancer: each new connection goes
// to the next backend that accepts a dial, so dead or draining gateways
// (closed listener) are skipped.
type rrBalancer struct {
	ln       net.Listener
	backends []string

	mu     sync.Mutex
	next   int
	order  []int            // backend index of each accepted connection, in order
	active map[int]int      // open connections per backend
	conns  map[net.Conn]int // every open connection (both sides)
	closed bool
	refuse time.Time // connections before this are closed at once (cut)
}

// cutAll cuts the network between clients and backends of every balancer
// for d: first each refuses new connections, then each closes its open ones,
// so a client cut from one cannot reconnect through another meanwhile.
func cutAll(bs []*rrBalancer, d time.Duration) {
	until := time.Now().Add(d)
	for _, b := range bs {
		b.mu.Lock()
		b.refuse = until
		b.mu.Unlock()
	}
	for _, b := range bs {
		b.mu.Lock()
		for c := range b.conns {
			c.Close()
		}
		b.mu.Unlock()
	}
}

func startBalancer(t testing.TB, backends ...string) *rrBalancer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &rrBalancer{ln: ln, backends: backends, active: map[int]int{}, conns: map[net.Conn]int{}}
	go b.serve()
	t.Cleanup(b.close)
	return b
}

// Addr is the balancer's host:port.
func (b *rrBalancer) Addr() string { return b.ln.Addr().String() }

func (b *rrBalancer) close() {
	b.ln.Close()
	b.mu.Lock()
	b.closed = true
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
}

func (b *rrBalancer) serve() {
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		go b.proxy(c)
	}
}

func (b *rrBalancer) pick() (net.Conn, int) {
	b.mu.Lock()
	start := b.next
	b.mu.Unlock()
	for i := 0; i < len(b.backends); i++ {
		idx := (start + i) % len(b.backends)
		be, err := net.DialTimeout("tcp", b.backends[idx], 2*time.Second)
		if err != nil {
			continue // dead backend: try the next one
		}
		b.mu.Lock()
		b.next = idx + 1
		b.mu.Unlock()
		return be, idx
	}
	return nil, -1
}

func (b *rrBalancer) proxy(c net.Conn) {
	b.mu.Lock()
	refused := time.Now().Before(b.refuse)
	b.mu.Unlock()
	if refused {
		c.Close()
		return
	}
	be, idx := b.pick()
	if be == nil {
		c.Close()
		return
	}
	b.mu.Lock()
	if b.closed || time.Now().Before(b.refuse) {
		b.mu.Unlock()
		c.Close()
		be.Close()
		return
	}
	b.order = append(b.order, idx)
	b.active[idx]++
	b.conns[c], b.conns[be] = idx, idx
	b.mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(2)
	// Each direction copies until EOF, then half-closes the other side so
	// whatever was sent before (a close frame) arrives before the FIN.
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		_, err := io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok && err == nil {
			tc.CloseWrite()
		} else {
			dst.Close()
			src.Close()
		}
	}
	go pipe(be, c)
	go pipe(c, be)
	wg.Wait()
	c.Close()
	be.Close()
	b.mu.Lock()
	b.active[idx]--
	delete(b.conns, c)
	delete(b.conns, be)
	b.mu.Unlock()
}

// Active is the number of open connections to backend idx.
func (b *rrBalancer) Active(idx int) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.active[idx]
}

// Order is the backend index of each connection so far, in accept order.
func (b *rrBalancer) Order() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int(nil), b.order...)
}

// ---------------------------------------------------------------- clients and API

// clusterEvent is one event as a client saw it.
type clusterEvent struct {
	Channel, Data string
	Seq           uint64
}

// subscribeAll subscribes c to public channels and waits for each success.
func subscribeAll(t *testing.T, c *rawClient, chans ...string) {
	t.Helper()
	for _, ch := range chans {
		c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": ch}})
		if f := c.expect("pusher_internal:subscription_succeeded"); f.Channel != ch {
			t.Fatalf("subscription_succeeded for %q, want %q", f.Channel, ch)
		}
	}
}

// subscribePrivate subscribes c to a private channel with a valid signature.
func subscribePrivate(t *testing.T, c *rawClient, socketID, ch string) {
	t.Helper()
	c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{
		"channel": ch, "auth": protocol.ChannelAuth("app-key", "app-secret", socketID, ch, "")}})
	if f := c.expect("pusher_internal:subscription_succeeded"); f.Channel != ch {
		t.Fatalf("subscription_succeeded for %q, want %q", f.Channel, ch)
	}
}

// collectUntil reads c's events named name until done(events) holds, failing
// after within; other frames (pings) are ignored.
func collectUntil(t *testing.T, c *rawClient, name string, within time.Duration, done func([]clusterEvent) bool) []clusterEvent {
	t.Helper()
	var got []clusterEvent
	deadline := time.After(within)
	for !done(got) {
		select {
		case b := <-c.frames:
			var f struct {
				Event, Channel string
				Data           json.RawMessage
				Seq            uint64
			}
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatalf("invalid frame %s", b)
			}
			if f.Event != name {
				continue
			}
			var s string
			json.Unmarshal(f.Data, &s)
			got = append(got, clusterEvent{Channel: f.Channel, Data: s, Seq: f.Seq})
		case code := <-c.closed:
			t.Fatalf("connection closed (%d) after %d events", code, len(got))
		case <-deadline:
			t.Fatalf("after %s: %d events, condition not met; last: %v", within, len(got), lastN(got, 5))
		}
	}
	return got
}

func lastN(evs []clusterEvent, n int) []clusterEvent {
	if len(evs) > n {
		return evs[len(evs)-n:]
	}
	return evs
}

// checkOrder fails unless each channel's stream sequences strictly grow and
// no event arrived twice.
func checkOrder(t *testing.T, who string, evs []clusterEvent) {
	t.Helper()
	last := map[string]uint64{}
	seen := map[string]bool{}
	for _, e := range evs {
		if e.Seq == 0 {
			t.Fatalf("%s: event %q on %s without seq", who, e.Data, e.Channel)
		}
		if e.Seq <= last[e.Channel] {
			t.Fatalf("%s: on %s seq %d after %d (out of order or duplicate)", who, e.Channel, e.Seq, last[e.Channel])
		}
		last[e.Channel] = e.Seq
		if seen[e.Channel+"/"+e.Data] {
			t.Fatalf("%s: %q on %s twice", who, e.Data, e.Channel)
		}
		seen[e.Channel+"/"+e.Data] = true
	}
}

// apiStatus posts an event and returns the status, never failing the test
// (network errors are status 0): for loads where a 503 is allowed.
func apiStatus(hc *http.Client, s *server, body string) int {
	const path = "/apps/1/events"
	q := protocol.SignRequest("app-key", "app-secret", http.MethodPost, path, nil, []byte(body), time.Now())
	req, err := http.NewRequest(http.MethodPost, s.APIURL()+path+"?"+q.Encode(), strings.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// gwChannel reads GET /apps/1/channels/{ch} with info from one gateway.
func gwChannel(t *testing.T, s *server, ch, info string) map[string]any {
	t.Helper()
	status, body := apiCall(t, s, "app-key", "app-secret", http.MethodGet, "/apps/1/channels/"+ch, map[string][]string{"info": {info}}, "")
	if status != http.StatusOK {
		t.Fatalf("GET channel %s on %s: %d %s", ch, s.APIAddr, status, body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("channel %s: %v", body, err)
	}
	return m
}

// gwUsers reads a presence channel's user ids from one gateway.
func gwUsers(t *testing.T, s *server, ch string) map[string]bool {
	t.Helper()
	status, body := apiCall(t, s, "app-key", "app-secret", http.MethodGet, "/apps/1/channels/"+ch+"/users", nil, "")
	if status != http.StatusOK {
		t.Fatalf("users of %s on %s: %d %s", ch, s.APIAddr, status, body)
	}
	var d struct{ Users []struct{ ID string } }
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatalf("users %s: %v", body, err)
	}
	out := map[string]bool{}
	for _, u := range d.Users {
		out[u.ID] = true
	}
	return out
}

// eventually polls cond every 100 ms until it returns "" or within passes,
// then fails with cond's last answer.
func eventually(t testing.TB, what string, within time.Duration, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %s", what, within, msg)
		}
		time.Sleep(100 * time.Millisecond) // polling interval of a bounded wait
	}
}

// ---------------------------------------------------------------- node scripts

// nodeScript is a running `node` script that speaks a line protocol on
// stdin/stdout: lines starting with "@@ " are messages to the test.
type nodeScript struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	out   *syncBuffer
	done  chan error
}

// startNodeScript runs e2e/node/<file> with env (bounded by timeout).
func startNodeScript(t *testing.T, timeout time.Duration, env []string, file string) *nodeScript {
	t.Helper()
	if _, err := os.Stat("node/node_modules"); err != nil {
		t.Fatalf("e2e/node/node_modules is missing: run `go tool task deps` (npm ci in e2e/node)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	n := &nodeScript{t: t, lines: make(chan string, 64), out: &syncBuffer{}, done: make(chan error, 1)}
	n.cmd = exec.CommandContext(ctx, "node", file)
	n.cmd.Dir = "node"
	n.cmd.Env = env
	n.cmd.Stderr = n.out
	stdout, err := n.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if n.stdin, err = n.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start node %s: %v", file, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			l := sc.Text()
			n.out.Write([]byte(l + "\n"))
			if rest, ok := strings.CutPrefix(l, "@@ "); ok {
				n.lines <- rest
			}
		}
		close(n.lines)
		n.done <- n.cmd.Wait()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-n.done:
		case <-time.After(10 * time.Second):
		}
		if t.Failed() {
			t.Logf("node %s output:\n%s", file, tail(n.out.String(), 6000))
		}
	})
	return n
}

// expect waits for the next message and checks its prefix.
func (n *nodeScript) expect(prefix string, within time.Duration) string {
	n.t.Helper()
	select {
	case l, ok := <-n.lines:
		if !ok {
			n.t.Fatalf("node script ended before %q:\n%s", prefix, tail(n.out.String(), 6000))
		}
		rest, found := strings.CutPrefix(l, prefix)
		if !found {
			n.t.Fatalf("node script said %q, want %q", l, prefix)
		}
		return strings.TrimSpace(rest)
	case <-time.After(within):
		n.t.Fatalf("node script: no %q within %s:\n%s", prefix, within, tail(n.out.String(), 6000))
	}
	return ""
}

func (n *nodeScript) send(line string) {
	n.t.Helper()
	if _, err := io.WriteString(n.stdin, line+"\n"); err != nil {
		n.t.Fatalf("write to node script: %v", err)
	}
}

// wait waits for the script to exit and fails on a non-zero status.
func (n *nodeScript) wait(within time.Duration) {
	n.t.Helper()
	select {
	case err := <-n.done:
		if err != nil {
			n.t.Fatalf("node script failed (%v):\n%s", err, tail(n.out.String(), 8000))
		}
	case <-time.After(within):
		n.t.Fatalf("node script did not finish within %s:\n%s", within, tail(n.out.String(), 6000))
	}
}

// anyPort is freePort.
func anyPort(t testing.TB) int {
	t.Helper()
	return freePort(t)
}
