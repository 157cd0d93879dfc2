package e2e

import (
	"encoding/json"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPortInUseSaysSo is issue 15: a port in use first logged a misleading
// "ERROR webhook dispatcher stopped" (background work started before the
// listeners, and was cut short). The listeners now open first: the only
// error is the port's, and with --log-format json it is a JSON line too.
func TestPortInUseSaysSo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(freePort(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	out := runPushdFails(t, 20*time.Second, nil, "--data-dir", t.TempDir(), "--log-format", "json", "--ws-addr", ln.Addr().String())
	var fatal []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("with --log-format json pushd wrote a line that is not JSON: %q", line)
		}
		if lv := m["level"]; lv == "WARN" || lv == "ERROR" {
			fatal = append(fatal, line)
		}
	}
	if len(fatal) != 1 || !strings.Contains(fatal[0], `"msg":"pushd stopped"`) || !strings.Contains(fatal[0], "address already in use") {
		t.Fatalf("warnings and errors: %q\nwant one, the port in use (\"pushd stopped\" … \"address already in use\")", fatal)
	}
}

// TestTLSErrorsThroughLogger is issue 15: Go's own TLS errors (a client
// speaking plain HTTP to the https port) went to stderr as text past the
// JSON logger. They are now JSON lines of the log, with the remote address.
func TestTLSErrorsThroughLogger(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := writeCert(t, dir, 1)
	s := startPushdTLS(t, certFile, keyFile, pool, "--log-format", "json")
	conn, err := net.DialTimeout("tcp", s.APIAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	_, _ = io.ReadAll(conn)
	conn.Close()
	l := s.waitLog(t, "the failed TLS handshake", "tls handshake failed", func(logLine) bool { return true })
	if l.str("level") != "INFO" || l.str("server") != "api" || remoteOf(l) != "127.0.0.1" || l.str("reason") == "" {
		t.Fatalf("TLS line %v: want INFO, server api, the remote address and the reason", l)
	}
}
