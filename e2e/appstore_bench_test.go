package e2e

// A gateway with 10,000 apps in the app store against one with 1: its start,
// memory, connect rate and per-frame cost (docs/benchmarks.md). Not part of
// `go test ./...`; run with
//
//	go test -run '^$' -bench AppStoreScale -benchtime 3000x -timeout 30m ./e2e
//
// Each run ends with two pushbench runs on the measured app (5,000 sockets
// connecting 64 at a time; 500 client-event pairs at 2,000 pings/s);
// BENCH_PUSHBENCH=0 skips them.
// The apps are written into the bucket of a nats-server process before the
// gateway starts (as an operator's admin API calls would have left them);
// the gateway declares their event streams at start. Each stream reserves
// its history_max_bytes of JetStream storage, so the 9,999 extra apps keep
// 64 KiB each (640 MB in all; at the default 64 MiB they would need 640 GB
// of max_file_store). The measured app is the gateway's own app-key in
// both runs: the same app, alone or with 9,999 others.

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	"github.com/pushd/pushd/appstore"
	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/internal/gws"
)

func BenchmarkAppStoreScale(b *testing.B) {
	for _, n := range []int{1, 10000} {
		b.Run("apps="+strconv.Itoa(n), func(b *testing.B) {
			nc := startNATSCluster(b, 1)
			seedBenchApps(b, nc.URLs(), n)
			key, secret, id := "app-key", "app-secret", "1"
			s := newGateway(b, nc.URLs())
			start := time.Now()
			s.launch(b, []string{"--config", s.ConfigPath, "--log-level", "warn"})
			waitReadyWithin(b, s, 10*time.Minute)
			b.Logf("%d apps: gateway ready %s after its start; RSS pushd %d MiB, nats-server %d MiB", n,
				time.Since(start).Round(10*time.Millisecond), rssMiB(s.cmd.Process.Pid), rssMiB(nc.Nodes[0].cmd.Process.Pid))
			// Idle CPU: what the apps cost when nothing happens.
			p0, n0 := procCPU(s.cmd.Process.Pid), procCPU(nc.Nodes[0].cmd.Process.Pid)
			idle := time.Now()
			time.Sleep(5 * time.Second) // the measuring interval, not a synchronisation
			secs := time.Since(idle).Seconds()
			b.Logf("%d apps: idle CPU over %.0f s: pushd %.1f %%, nats-server %.1f %% of a core", n, secs,
				100*(procCPU(s.cmd.Process.Pid)-p0)/secs, 100*(procCPU(nc.Nodes[0].cmd.Process.Pid)-n0)/secs)
			url := s.WSURL(key) + "?protocol=7"

			b.Run("connect", func(b *testing.B) {
				for b.Loop() {
					c := benchDial(b, url)
					c.conn.WriteClose(1000, nil)
				}
			})
			b.Run("ping", func(b *testing.B) {
				c := benchDial(b, url)
				defer c.conn.WriteClose(1000, nil)
				ping := []byte(`{"event":"pusher:ping","data":{}}`)
				for b.Loop() {
					if err := c.conn.WriteMessage(gws.OpcodeText, ping); err != nil {
						b.Fatal(err)
					}
					c.await(b, `"pusher:pong"`)
				}
			})
			b.Run("trigger", func(b *testing.B) {
				hc := &http.Client{Timeout: 10 * time.Second}
				path := "/apps/" + id + "/events"
				body := []byte(`{"name":"e","channel":"nobody-listens","data":"x"}`)
				for b.Loop() {
					q := protocol.SignRequest(key, secret, http.MethodPost, path, nil, body, time.Now())
					resp, err := hc.Post(s.APIURL()+path+"?"+q.Encode(), "application/json", strings.NewReader(string(body)))
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Fatalf("trigger: %d", resp.StatusCode)
					}
				}
			})
			b.Logf("%d apps: RSS pushd %d MiB after the runs", n, rssMiB(s.cmd.Process.Pid))
			if bin := pushbenchBin(b); bin != "" {
				pid := strconv.Itoa(s.cmd.Process.Pid)
				base := []string{"--ws", "ws://" + s.WSAddr, "--api", s.APIURL(), "--key", key, "--secret", secret, "--app-id", id, "--pid", pid}
				for _, run := range [][]string{
					{"connect", "--conns", "5000", "--channels", "50", "--concurrency", "64", "--settle", "1s"},
					{"clientevents", "--pairs", "500", "--rate", "2000", "--duration", "10s"},
				} {
					out, err := exec.Command(bin, append(run, base...)...).Output()
					if err != nil {
						b.Fatalf("pushbench %s: %v\n%s", run[0], err, out)
					}
					b.Logf("%d apps: pushbench %s: %s", n, strings.Join(run, " "), strings.TrimSpace(string(out)))
				}
			}
			// A restart finds the streams made: it only reads them.
			s.cmd.Process.Signal(syscall.SIGTERM)
			<-s.done
			start = time.Now()
			s.launch(b, []string{"--config", s.ConfigPath, "--log-level", "warn"})
			waitReadyWithin(b, s, 10*time.Minute)
			b.Logf("%d apps: gateway ready %s after a restart", n, time.Since(start).Round(10*time.Millisecond))
		})
	}
}

// seedBenchApps writes n-1 apps (bench-0 …) into the app store of the
// NATS at urls, besides the gateway's file app (app-key).
func seedBenchApps(b *testing.B, urls string, n int) {
	b.Helper()
	if n <= 1 {
		return
	}
	conn, err := nats.Connect(urls)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	js, err := jetstream.New(conn)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	store, err := appstore.Open(ctx, js, appstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan int)
	errs := make(chan error, 1)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				a := config.App{ID: strconv.Itoa(1000 + i), Key: "bench-" + strconv.Itoa(i), Secret: "bench-secret-" + strconv.Itoa(i),
					Limits: config.Limits{HistoryMaxBytes: 64 << 10}}
				if _, err := store.Create(ctx, a, appstore.SourceAPI); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for i := range n - 1 {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatalf("seed %d apps: %v", n, err)
	default:
	}
	b.Logf("%d apps written to the app store in %s", n-1, time.Since(start).Round(time.Millisecond))
}

// waitReadyWithin waits until s's /readyz answers 200.
func waitReadyWithin(b *testing.B, s *server, within time.Duration) {
	b.Helper()
	deadline := time.Now().Add(within)
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
			b.Fatalf("pushd exited before ready:\n%s", tail(s.log.String(), 4000))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.Fatalf("pushd not ready after %s:\n%s", within, tail(s.log.String(), 4000))
		}
	}
}

// rssMiB is a process's resident memory in MiB (0 if unknown).
func rssMiB(pid int) int {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return kb / 1024
		}
	}
	return 0
}

// pushbenchBin builds cmd/pushbench once per test binary ("" with
// BENCH_PUSHBENCH=0: skip its runs).
func pushbenchBin(b testing.TB) string {
	if os.Getenv("BENCH_PUSHBENCH") == "0" {
		return ""
	}
	pushbenchOnce.Do(func() {
		pushbenchPath = filepath.Join(filepath.Dir(pushdBin), "pushbench")
		if out, err := exec.Command("go", "build", "-o", pushbenchPath, "../cmd/pushbench").CombinedOutput(); err != nil {
			pushbenchErr = fmt.Errorf("build pushbench: %v\n%s", err, out)
		}
	})
	if pushbenchErr != nil {
		b.Fatal(pushbenchErr)
	}
	return pushbenchPath
}

var (
	pushbenchOnce sync.Once
	pushbenchPath string
	pushbenchErr  error
)

// benchConn is a bare client socket for benchmarks: it hands each text
// frame to await.
type benchConn struct {
	gws.BuiltinEventHandler
	conn   *gws.Conn
	frames chan []byte
}

func (c *benchConn) OnMessage(_ *gws.Conn, m *gws.Message) {
	c.frames <- append([]byte(nil), m.Bytes()...)
	m.Close()
}

func (c *benchConn) OnClose(*gws.Conn, error) {}

// benchDial connects and waits for connection_established.
func benchDial(b *testing.B, url string) *benchConn {
	c := &benchConn{frames: make(chan []byte, 16)}
	conn, _, err := gws.NewClient(c, &gws.ClientOption{Addr: url, HandshakeTimeout: 10 * time.Second})
	if err != nil {
		b.Fatalf("dial %s: %v", url, err)
	}
	c.conn = conn
	go conn.ReadLoop()
	c.await(b, `"pusher:connection_established"`)
	return c
}

// await reads frames until one holds want.
func (c *benchConn) await(b *testing.B, want string) {
	deadline := time.After(10 * time.Second)
	for {
		select {
		case f := <-c.frames:
			if strings.Contains(string(f), want) {
				return
			}
			if strings.Contains(string(f), "pusher:error") {
				b.Fatalf("waiting for %s: %s", want, f)
			}
		case <-deadline:
			b.Fatal(errors.New("no " + want + " within 10s"))
		}
	}
}
