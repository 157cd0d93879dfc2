package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
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
)

// pushdBin is the server binary built once by TestMain.
var pushdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pushd-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pushdBin = filepath.Join(dir, "pushd")
	build := exec.Command("go", "build", "-o", pushdBin, "../cmd/pushd")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build pushd:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testApps is the app section every e2e server starts with. Node tests read
// the same credentials from the environment (see nodeEnv).
const testApps = `
apps:
  - id: "1"
    key: app-key
    secret: app-secret
  - key: noid-key
    secret: noid-secret
  - id: "3"
    key: noclient-key
    secret: noclient-secret
    disable_client_events: true
  - id: "4"
    key: off-key
    secret: off-secret
    disabled: true
  - id: "5"
    key: small-key
    secret: small-secret
    max_event_bytes: 100
    max_connections: 2
    max_channels_per_event: 3
    max_batch_events: 2
    activity_timeout: 1
    history_max_bytes: 4096
  - id: "6"
    key: members-key
    secret: members-secret
    max_presence_members: 2
    max_user_info_bytes: 64
    max_user_id_length: 8
  - id: "7"
    key: authonly-key
    secret: authonly-secret
    user_authentication_timeout: 1s
  - id: "8"
    key: quota-key
    secret: quota-secret
    api_requests_per_second: 3
    allowed_origins: ["https://good.example"]
`

// startNode starts one more gateway that uses peer's embedded NATS (peer
// must run with --nats-listen), as a second node of a cluster, with the
// URL and credentials peer printed.
func startNode(t *testing.T, peer *server) *server {
	return startPushd(t, "", "--nats-url", peer.natsListenURL(t))
}

// natsListenURL is the ready-to-paste URL, with the user and password it
// generated, that s printed for other gateways on its first start with
// --nats-listen.
func (s *server) natsListenURL(t *testing.T) string {
	t.Helper()
	var url string
	waitFor(t, "the NATS listener's URL in the banner of "+s.APIAddr, func() bool {
		for _, line := range strings.Split(s.log.String(), "\n") {
			if rest, ok := strings.CutPrefix(line, "  nats port  "); ok && strings.Contains(rest, "@") {
				url, _, _ = strings.Cut(rest, " ")
				return true
			}
		}
		return false
	})
	return url
}

// kill ends the process with SIGKILL, as a crash would.
func (s *server) kill(t *testing.T) {
	t.Helper()
	s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatal("pushd did not die after SIGKILL")
	}
}

// server is one running pushd process.
type server struct {
	WSAddr, APIAddr string
	DataDir         string
	ConfigPath      string
	tls             *tls.Config // set when the server speaks TLS
	wrapper         []string    // runs pushd with its arguments (nil: pushd is run directly)
	args            []string    // pushd's arguments after the addresses and data dir
	cmd             *exec.Cmd
	log             *syncBuffer
	done            chan struct{}
}

// WSURL is the WebSocket URL of an app key, without query string.
func (s *server) WSURL(key string) string { return "ws://" + s.WSAddr + "/app/" + key }

// APIURL is the base URL of the HTTP API.
func (s *server) APIURL() string { return "http://" + s.APIAddr }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// portBook hands out loopback ports below the kernel's ephemeral range
// (32768 and up here), each once per test binary. A port from bind(:0) can
// be handed out again, or be taken by an outgoing connection, before the
// server meant to listen on it binds it: a NATS route then dialed another
// node's HTTP port and the cluster never formed.
type portBook struct {
	mu   sync.Mutex
	next int
}

const (
	firstTestPort = 20000
	lastTestPort  = 32767
)

// ports starts at an offset taken from the process id, so that two test
// binaries running at once (go test of several packages, or two checkouts)
// rarely walk the same ports in step.
var ports = &portBook{next: firstTestPort + os.Getpid()%(lastTestPort-firstTestPort)}

func (b *portBook) take(t testing.TB) int {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for tries := 0; tries <= lastTestPort-firstTestPort; tries++ {
		p := b.next
		b.next++
		if b.next > lastTestPort {
			b.next = firstTestPort
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue // in use by something else
		}
		l.Close()
		return p
	}
	t.Fatalf("no free loopback port in %d-%d", firstTestPort, lastTestPort)
	return 0
}

// freePort returns a loopback port that is free and was never handed out
// before in this test binary.
func freePort(t testing.TB) int {
	t.Helper()
	return ports.take(t)
}

// startPushd starts the server with testApps plus extraConfig (YAML lines
// appended at top level) and waits until /readyz answers 200.
func startPushd(t *testing.T, extraConfig string, args ...string) *server {
	t.Helper()
	return startPushdUnder(t, nil, extraConfig, args...)
}

// startPushdWithFileLimit starts the server as startPushd does, with its
// open-file limit (RLIMIT_NOFILE, soft and hard) set to nofile.
func startPushdWithFileLimit(t *testing.T, nofile int, extraConfig string, args ...string) *server {
	t.Helper()
	return startPushdUnder(t, []string{"sh", "-c", "ulimit -n " + strconv.Itoa(nofile) + ` && exec "$0" "$@"`}, extraConfig, args...)
}

// startPushdUnder starts the server through wrapper (a command that runs its
// arguments, nil: none).
func startPushdUnder(t *testing.T, wrapper []string, extraConfig string, args ...string) *server {
	t.Helper()
	dir := t.TempDir()
	s := &server{
		WSAddr:  "127.0.0.1:" + strconv.Itoa(freePort(t)),
		APIAddr: "127.0.0.1:" + strconv.Itoa(freePort(t)),
		DataDir: filepath.Join(dir, "data"),
		log:     &syncBuffer{},
		wrapper: wrapper,
	}
	cfgPath := filepath.Join(dir, "pushd.yaml")
	s.ConfigPath = cfgPath
	cfg := testApps + "\npong_timeout: 2s\n" + extraConfig
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s.start(t, append([]string{"--config", cfgPath}, args...))
	return s
}

func (s *server) start(t *testing.T, args []string) {
	t.Helper()
	s.args = args
	all := append([]string{"--ws-addr", s.WSAddr, "--api-addr", s.APIAddr, "--data-dir", s.DataDir}, args...)
	name := pushdBin
	if len(s.wrapper) > 0 {
		name, all = s.wrapper[0], append(append(s.wrapper[1:len(s.wrapper):len(s.wrapper)], pushdBin), all...)
	}
	s.cmd = exec.Command(name, all...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.done = make(chan struct{})
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start pushd: %v", err)
	}
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(s.cmd, s.done)
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			t.Logf("pushd log:\n%s", s.log.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	hc, ready := http.DefaultClient, s.APIURL()+"/readyz"
	if s.tls != nil {
		hc = &http.Client{Transport: &http.Transport{TLSClientConfig: s.tls}}
		ready = "https://" + s.APIAddr + "/readyz"
	}
	for {
		resp, err := hc.Get(ready)
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
			t.Fatalf("pushd not ready after 20s:\n%s", s.log.String())
		}
	}
}

// stop sends SIGTERM and waits (bounded) for the process to exit.
func (s *server) stop(t *testing.T) {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		t.Errorf("pushd did not exit within 15s of SIGTERM")
	}
}

// restart stops the server and starts it again on the same ports and data.
func (s *server) restart(t *testing.T) {
	t.Helper()
	s.stop(t)
	s.start(t, s.args)
}

// resetStore stops the server, deletes its data directory (the event store
// is reset, as when an operator wipes the volume) and starts it again on
// the same ports.
func (s *server) resetStore(t *testing.T) {
	t.Helper()
	s.stop(t)
	if err := os.RemoveAll(s.DataDir); err != nil {
		t.Fatalf("wipe %s: %v", s.DataDir, err)
	}
	args := append([]string(nil), s.cmd.Args[1:]...)
	s.start(t, args[6:])
}

// nodeEnv is the environment node tests read to find the server and apps.
func (s *server) nodeEnv() []string {
	wsHost, wsPort, _ := net.SplitHostPort(s.WSAddr)
	apiHost, apiPort, _ := net.SplitHostPort(s.APIAddr)
	return append(os.Environ(),
		"PUSHD_WS_HOST="+wsHost, "PUSHD_WS_PORT="+wsPort,
		"PUSHD_API_HOST="+apiHost, "PUSHD_API_PORT="+apiPort,
		"APP_ID=1", "APP_KEY=app-key", "APP_SECRET=app-secret",
		"NOID_KEY=noid-key", "NOID_SECRET=noid-secret",
		"NOCLIENT_ID=3", "NOCLIENT_KEY=noclient-key", "NOCLIENT_SECRET=noclient-secret",
		"OFF_ID=4", "OFF_KEY=off-key", "OFF_SECRET=off-secret",
		"SMALL_ID=5", "SMALL_KEY=small-key", "SMALL_SECRET=small-secret",
	)
}

// runNode runs node's test runner on the given test files against s and
// fails t with the runner's output when any node test fails.
func runNode(t *testing.T, s *server, files ...string) {
	t.Helper()
	if _, err := os.Stat("node/node_modules"); err != nil {
		t.Fatalf("e2e/node/node_modules is missing: run `go tool task deps` (npm ci in e2e/node)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	args := append([]string{"--test", "--test-reporter=spec", "--test-timeout=60000", "--test-concurrency=1"}, files...)
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = "node"
	cmd.Env = s.nodeEnv()
	out, err := cmd.CombinedOutput()
	t.Logf("node %s:\n%s", strings.Join(files, " "), out)
	if err != nil {
		t.Fatalf("node tests failed: %v", err)
	}
}
