package e2e

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
)

// expectRefused reads the answer to a connection past the server's
// max_connections: pusher:error 4004, then close 4004.
func expectRefused(t *testing.T, c *rawClient) {
	t.Helper()
	f := c.expect("pusher:error")
	if code := errorCode(t, f); code != protocol.CodeOverQuota {
		t.Fatalf("error %s, want code %d", f.raw, protocol.CodeOverQuota)
	}
	c.expectClose(protocol.CodeOverQuota, 5*time.Second)
}

// connectWithin dials key until a connection is established, within d:
// a place freed by a close is usable once the server has seen the close.
func connectWithin(t *testing.T, s *server, key string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		c := dialRaw(t, s.WSURL(key)+"?protocol=7")
		f := c.next()
		if f.Event == "pusher:connection_established" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still refused %s after a place was freed: %s", d, f.raw)
		}
		time.Sleep(50 * time.Millisecond) // polling, bounded by the deadline
	}
}

// TestServerConnectionCap: max_connections (server-wide) counts every socket
// of the WebSocket port, of any app and still in its handshake; one more is
// refused with 4004 as an app's own quota refuses.
func TestServerConnectionCap(t *testing.T) {
	s := startPushd(t, "max_connections: 3\n")
	a, _ := connect(t, s, "app-key")
	connect(t, s, "noid-key")
	idle, err := net.DialTimeout("tcp", s.WSAddr, 5*time.Second) // sends nothing: in its handshake
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	expectRefused(t, dialRaw(t, s.WSURL("app-key")+"?protocol=7"))
	expectRefused(t, dialRaw(t, s.WSURL("members-key")+"?protocol=7"))
	if n := s.metric(t, "pushd_rejected_total"); n < 2 {
		t.Errorf("pushd_rejected_total = %v after two refusals, want at least 2", n)
	}
	if n := s.metric(t, "pushd_sockets_max"); n != 3 {
		t.Errorf("pushd_sockets_max = %v, want 3", n)
	}
	if n := s.metric(t, "pushd_sockets"); n < 3 {
		t.Errorf("pushd_sockets = %v with 3 sockets open, want at least 3", n)
	}

	idle.Close()
	connectWithin(t, s, "app-key", 5*time.Second)
	expectRefused(t, dialRaw(t, s.WSURL("app-key")+"?protocol=7"))
	a.conn.WriteClose(1000, nil)
	connectWithin(t, s, "members-key", 5*time.Second)
}

// TestServerConnectionCapDefault: without max_connections the cap follows
// the open-file limit: here 400 files, so 200 sockets (half of it, as the
// usual margin of 500 files would leave none).
func TestServerConnectionCapDefault(t *testing.T) {
	s := startPushdWithFileLimit(t, 400, "")
	for i := 0; i < 199; i++ {
		p, err := tryDialPeer(nil, s.WSAddr, "/app/app-key?protocol=7")
		if err != nil {
			t.Fatalf("connection %d of 199: %v", i+1, err)
		}
		p.t = t
		t.Cleanup(func() { p.conn.Close() })
	}
	connect(t, s, "app-key") // the 200th
	expectRefused(t, dialRaw(t, s.WSURL("app-key")+"?protocol=7"))
}

// TestAcceptSurvivesFileLimit: when the process runs out of files (here a
// max_connections as high as the limit allows, with NATS holding files too),
// the WebSocket listener waits and accepts again once files are free.
// Before, the first EMFILE from accept stopped the listener and the server.
func TestAcceptSurvivesFileLimit(t *testing.T) {
	s := startPushdWithFileLimit(t, 300, "max_connections: 300\n")
	conns := make([]net.Conn, 0, 320)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < cap(conns); i++ { // the kernel completes connects the server cannot accept
		c, err := net.DialTimeout("tcp", s.WSAddr, 5*time.Second)
		if err != nil {
			t.Fatalf("connect %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.log.String(), "too many open files") {
		if time.Now().After(deadline) {
			t.Fatalf("no accept failure logged with %d connections open under a limit of 300 files:\n%s", len(conns), lastBytes(s.log.String(), 3000))
		}
		time.Sleep(50 * time.Millisecond) // polling, bounded by the deadline
	}
	for _, c := range conns {
		c.Close()
	}
	conns = conns[:0]
	checkHealthy(t, s, "after-emfile")
}

// TestServerConnectionCapAboveFileLimit: a max_connections the open-file
// limit cannot hold stops the start with an error that says what to change.
func TestServerConnectionCapAboveFileLimit(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "pushd.yaml")
	if err := os.WriteFile(cfg, []byte(testApps+"\nmax_connections: 1000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", `ulimit -n 400 && exec "$0" "$@"`, pushdBin, "--config", cfg,
		"--ws-addr", "127.0.0.1:"+strconv.Itoa(freePort(t)), "--api-addr", "127.0.0.1:"+strconv.Itoa(freePort(t)),
		"--data-dir", filepath.Join(dir, "data"))
	out, err := cmd.CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("pushd started (or hung: %v) with max_connections 1000 under 400 files:\n%s", ctx.Err(), out)
	}
	if !strings.Contains(string(out), "max_connections 1000 is more than this process may open files (RLIMIT_NOFILE 400)") {
		t.Fatalf("exit %v without the reason:\n%s", err, out)
	}
}
