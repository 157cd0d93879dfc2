package deploy

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/wasmclient"
)

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	var ports []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// TestLocalCluster runs `go tool task cluster`'s script, deploy/cluster/run.sh,
// with every port moved through the environment (deploy/cluster/ports.sh is
// the one place that sets them): the 3 nats-server form a JetStream
// cluster, the 3 gateways join it on the ports given, and an event
// triggered on the first gateway reaches a client of the third. Ctrl-C
// (SIGINT) stops everything.
func TestLocalCluster(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("run.sh needs curl")
	}
	p := freePorts(t, 15)
	env := append(os.Environ(),
		"CLUSTER_DIR="+t.TempDir(), "CLUSTER_BIN="+t.TempDir(),
		"CLUSTER_NATS_PORTS="+strings.Join(p[0:3], " "), "CLUSTER_ROUTE_PORTS="+strings.Join(p[3:6], " "),
		"CLUSTER_MONITOR_PORTS="+strings.Join(p[6:9], " "), "CLUSTER_WS_PORTS="+strings.Join(p[9:12], " "),
		"CLUSTER_API_PORTS="+strings.Join(p[12:15], " "))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", repo(t, "deploy", "cluster", "run.sh"))
	cmd.Env = env
	out := &lockedBuffer{}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(io.TeeReader(stdout, out))
		for sc.Scan() {
			if strings.Contains(sc.Text(), "pushd cluster ready") {
				close(ready)
				break
			}
		}
		_, _ = io.Copy(out, stdout)
		exited <- cmd.Wait()
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("run.sh after Ctrl-C: %v\n%s", err, out)
			}
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("run.sh still running 60 s after Ctrl-C\n%s", out)
		}
	}
	t.Cleanup(stop)
	select {
	case <-ready:
	case err := <-exited:
		t.Fatalf("run.sh exited before the cluster was ready: %v\n%s", err, out)
	case <-time.After(4 * time.Minute):
		t.Fatalf("no 'pushd cluster ready' within 4 min\n%s", out)
	}
	for _, port := range p[9:12] {
		if !strings.Contains(out.String(), "ws://127.0.0.1:"+port+"/app/cluster-key") {
			t.Errorf("the banner does not name ws port %s:\n%s", port, out)
		}
	}

	subscribed, events := make(chan struct{}, 1), make(chan string, 1)
	c := wasmclient.New(wasmclient.Options{URL: "ws://127.0.0.1:" + p[11], Key: "cluster-key", DialTimeout: 5 * time.Second})
	ch := c.Subscribe("cluster-check")
	ch.Bind("pusher:subscription_succeeded", func(wasmclient.Event) { subscribed <- struct{}{} })
	ch.Bind("hello", func(ev wasmclient.Event) { events <- ev.Data })
	c.Connect()
	defer c.Disconnect()
	select {
	case <-subscribed:
	case <-time.After(10 * time.Second):
		t.Fatalf("no subscription_succeeded on gateway 3 within 10 s (state %s)", c.State())
	}
	body := `{"name":"hello","channels":["cluster-check"],"data":"{\"n\":1}"}`
	q := protocol.SignRequest("cluster-key", "cluster-secret", http.MethodPost, "/apps/1/events", nil, []byte(body), time.Now())
	resp, err := http.Post("http://127.0.0.1:"+p[12]+"/apps/1/events?"+q.Encode(), "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("trigger on gateway 1: %s", resp.Status)
	}
	select {
	case got := <-events:
		if got != `{"n":1}` {
			t.Fatalf("gateway 3's client got %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the event triggered on gateway 1 did not reach gateway 3's client within 10 s")
	}
	stop()
}
