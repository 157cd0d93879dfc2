package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushd/pushd/config"
)

// logBuffer collects JSON log lines from several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// natsLines returns the logged records of the nats-server component.
func (l *logBuffer) natsLines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if line == "" {
			continue // an empty log
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["component"] == "nats-server" {
			out = append(out, m)
		}
	}
	return out
}

func openLogged(t *testing.T, level slog.Level, opts Options) (*Bus, *logBuffer, error) {
	t.Helper()
	buf := &logBuffer{}
	opts.Logger = slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: level}))
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), openLimit)
	defer cancel()
	b, err := Open(ctx, opts, func(Delivery) {})
	if err == nil {
		t.Cleanup(b.Close)
	}
	return b, buf, err
}

// TestNATSServerLogsThroughSlog proves the embedded server's own log reaches
// pushd's logger: at info level it stays quiet (its notices, such as its
// start-up banner, are routine and go to debug; its warnings and errors
// would show), at debug level its notices and debug lines appear.
func TestNATSServerLogsThroughSlog(t *testing.T) {
	_, info, err := openLogged(t, slog.LevelInfo, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range info.natsLines(t) {
		if m["level"] == "DEBUG" || m["level"] == "INFO" {
			t.Fatalf("a routine server line at info level: %v", m)
		}
	}
	_, debug, err := openLogged(t, slog.LevelDebug, Options{})
	if err != nil {
		t.Fatal(err)
	}
	starting, n := false, 0
	for _, m := range debug.natsLines(t) {
		if m["level"] == "DEBUG" {
			n++
			starting = starting || strings.Contains(m["msg"].(string), "Starting nats-server")
		}
	}
	if n == 0 || !starting {
		t.Fatalf("at debug level: %d DEBUG lines from the server, \"Starting nats-server\" among them: %v", n, starting)
	}
}

// TestEmbeddedFailsFastWithCause is issue 13 #4: a server that cannot start
// reports its own error at once, not "not ready after 10s".
func TestEmbeddedFailsFastWithCause(t *testing.T) {
	t.Run("port in use", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		start := time.Now()
		_, buf, err := openLogged(t, slog.LevelInfo, Options{Listen: ln.Addr().String(),
			ListenAuth: config.NATSListenAuth{User: "u", Password: "p"}})
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("open on a port in use: %v, want the server's \"address already in use\"", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %s, want a fast failure", d)
		}
		var logged bool
		for _, m := range buf.natsLines(t) {
			logged = logged || m["level"] == "ERROR" && strings.Contains(m["msg"].(string), "address already in use")
		}
		if !logged {
			t.Fatal("the server's error is not in the log at ERROR")
		}
	})
	t.Run("data dir is a file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := openLogged(t, slog.LevelInfo, Options{DataDir: filepath.Join(file, "data")})
		if err == nil || !strings.Contains(err.Error(), "not a directory") {
			t.Fatalf("open on a data dir under a file: %v, want \"not a directory\"", err)
		}
	})
}

// TestDataDirLock is issue 13 #4: a second pushd on the same data directory
// is refused at once with a message naming the directory and the holder.
func TestDataDirLock(t *testing.T) {
	dir := t.TempDir()
	first, _, err := openLogged(t, slog.LevelInfo, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = openLogged(t, slog.LevelInfo, Options{DataDir: dir})
	if err == nil {
		t.Fatal("a second bus on the same data dir opened, want it refused")
	}
	for _, want := range []string{dir, "in use by another pushd", "pid " + strconv.Itoa(os.Getpid())} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not name %q", err, want)
		}
	}
	first.Close()
	if _, _, err := openLogged(t, slog.LevelInfo, Options{DataDir: dir}); err != nil {
		t.Fatalf("open after the first closed: %v", err)
	}
}
