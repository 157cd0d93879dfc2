package deploy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/wasmclient"
)

// endpoints are the base URLs of a running server under test.
type endpoints struct {
	ws  string // ws://127.0.0.1:port
	api string // http://127.0.0.1:port
}

// testApp is the app every server in these tests is started with.
var testApp = struct{ id, key, secret string }{"1", "deploy-key", "deploy-secret"}

// lockedBuffer collects a process's output for failure messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var readyLine = regexp.MustCompile(`^\s+(websocket|http api)\s+(\w+://[^/\s]+)`)

// startBinary runs a pushd binary with an embedded NATS in a fresh data
// directory on free loopback ports, and returns where it listens once it
// printed "pushd ready". The process gets SIGTERM at the end of the test.
func startBinary(t *testing.T, bin string, args ...string) endpoints {
	t.Helper()
	all := append([]string{"--ws-addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0", "--data-dir", t.TempDir(),
		"--app-id", testApp.id, "--app-key", testApp.key, "--app-secret", testApp.secret}, args...)
	cmd := exec.Command(bin, all...)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { stopProcess(t, cmd, exited, stderr) })

	found := make(chan endpoints, 1)
	go func() {
		var e endpoints
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := readyLine.FindStringSubmatch(sc.Text()); m != nil {
				if m[1] == "websocket" {
					e.ws = m[2]
				} else {
					e.api = m[2]
				}
				if e.ws != "" && e.api != "" {
					found <- e
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case e := <-found:
		return e
	case err := <-exited:
		t.Fatalf("%s exited before it was ready: %v\n%s", bin, err, stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("%s not ready after 60 s\n%s", bin, stderr)
	}
	return endpoints{}
}

// stopProcess sends SIGTERM and expects a clean exit within 20 s.
func stopProcess(t *testing.T, cmd *exec.Cmd, exited chan error, out fmt.Stringer) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("pushd after SIGTERM: %v\n%s", err, out)
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		t.Errorf("pushd still running 20 s after SIGTERM; killed\n%s", out)
	}
}

// waitReady polls /readyz until it answers 200.
func waitReady(t *testing.T, api string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for tick := time.NewTicker(100 * time.Millisecond); time.Now().Before(deadline); <-tick.C {
		resp, err := http.Get(api + "/readyz")
		if err != nil {
			last = err.Error()
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return
		}
		last = resp.Status
	}
	t.Fatalf("GET %s/readyz: not 200 within %s (last: %s)", api, within, last)
}

// checkServes checks what an operator checks after a deploy: /readyz says
// ready, the JS clients and push.wasm are served from the WebSocket port,
// and a client subscribed to a channel receives an event triggered through
// the signed HTTP API.
func checkServes(t *testing.T, e endpoints) {
	t.Helper()
	waitReady(t, e.api, 30*time.Second)
	httpBase := "http" + strings.TrimPrefix(e.ws, "ws")
	for path, want := range map[string]string{"/push.js": "Push", "/plugin/webman/push/push.js": "Push", "/push.wasm": ""} {
		body := get(t, httpBase+path)
		if len(body) == 0 || !strings.Contains(body, want) {
			t.Errorf("GET %s%s: %d bytes without %q", httpBase, path, len(body), want)
		}
	}

	subscribed := make(chan struct{}, 1)
	events := make(chan string, 1)
	c := wasmclient.New(wasmclient.Options{URL: e.ws, Key: testApp.key, DialTimeout: 5 * time.Second})
	ch := c.Subscribe("deploy-check")
	ch.Bind("pusher:subscription_succeeded", func(wasmclient.Event) { subscribed <- struct{}{} })
	ch.Bind("hello", func(ev wasmclient.Event) { events <- ev.Data })
	c.Connect()
	defer c.Disconnect()
	select {
	case <-subscribed:
	case <-time.After(10 * time.Second):
		t.Fatalf("no pusher:subscription_succeeded on deploy-check within 10 s (client state %s)", c.State())
	}
	path := "/apps/" + testApp.id + "/events"
	body := `{"name":"hello","channels":["deploy-check"],"data":"{\"n\":1}"}`
	q := protocol.SignRequest(testApp.key, testApp.secret, http.MethodPost, path, nil, []byte(body), time.Now())
	resp, err := http.Post(e.api+path+"?"+q.Encode(), "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s %s, want 200", path, resp.Status, b)
	}
	select {
	case got := <-events:
		if got != `{"n":1}` {
			t.Fatalf("event hello on deploy-check: got data %q, want %q", got, `{"n":1}`)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("triggered event hello did not reach the subscribed client within 10 s")
	}
}

// get fetches url and fails unless it answers 200.
func get(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v, want 200", url, resp.Status, err)
	}
	return string(b)
}

// run runs a command and fails with its output unless it succeeds within
// the timeout.
func run(t *testing.T, timeout time.Duration, dir string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("%s %s: not done within %s\n%s", name, strings.Join(args, " "), timeout, out)
	}
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
