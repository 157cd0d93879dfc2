package main

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func TestVersionFlag(t *testing.T) {
	// --version answers before the configuration is read: a broken file
	// or environment does not stop it.
	_, _, err := loadConfig([]string{"--config", "/nonexistent/pushd.yaml", "--version"}, func(string) string { return "" })
	if !errors.Is(err, errVersion) {
		t.Fatalf("loadConfig(--version): got %v, want errVersion", err)
	}
	var out bytes.Buffer
	code, ok := answerOneShot(err, &out)
	if !ok || code != 0 {
		t.Fatalf("answerOneShot(errVersion): code %d handled %v, want 0 true", code, ok)
	}
	// A test binary carries no stamped version and no module version.
	if got := out.String(); !strings.HasPrefix(got, "pushd dev ") || !strings.HasSuffix(got, "\n") {
		t.Fatalf("version line: got %q, want \"pushd dev …\\n\"", got)
	}

	// PUSHD_VERSION is not an environment twin of --version.
	dir := t.TempDir()
	env := map[string]string{"PUSHD_VERSION": "true", "PUSHD_HEALTHCHECK": "true", "PUSHD_DATA_DIR": dir}
	if _, _, err := loadConfig(nil, func(k string) string { return env[k] }); err != nil {
		t.Fatalf("loadConfig with PUSHD_VERSION=true: got %v, want a server configuration", err)
	}
}

func TestBuildVersionStamped(t *testing.T) {
	version, commit, date = "v1.2.3", "0123abc", "2026-12-07T10:00:00Z"
	t.Cleanup(func() { version, commit, date = "", "", "" })
	got := buildVersion()
	if want := "pushd v1.2.3 commit 0123abc built 2026-12-07T10:00:00Z "; !strings.HasPrefix(got, want) {
		t.Fatalf("buildVersion: got %q, want prefix %q", got, want)
	}
}

func TestHealthcheckFlag(t *testing.T) {
	var notReady atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" || notReady.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	dir := t.TempDir()
	// The container sets PUSHD_API_ADDR=0.0.0.0:3232; the probe dials loopback.
	env := map[string]string{"PUSHD_API_ADDR": "0.0.0.0:" + port, "PUSHD_DATA_DIR": dir}
	_, _, err := loadConfig([]string{"--healthcheck"}, func(k string) string { return env[k] })
	var hc *healthcheckRequest
	if !errors.As(err, &hc) {
		t.Fatalf("loadConfig(--healthcheck): got %v, want a healthcheck request", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "app.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a healthcheck wrote %s/app.json (stat: %v); it must write nothing", dir, err)
	}
	var out bytes.Buffer
	if code, ok := answerOneShot(err, &out); !ok || code != 0 {
		t.Fatalf("healthcheck of a ready server: code %d handled %v (%s), want 0", code, ok, out.String())
	}
	notReady.Store(true)
	out.Reset()
	if code, _ := answerOneShot(err, &out); code != 1 || !strings.Contains(out.String(), "503") {
		t.Fatalf("healthcheck of a server answering 503: code %d (%q), want 1 and the status", code, out.String())
	}
}

func TestLoopbackAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0.0.0.0:3232":   "127.0.0.1:3232",
		":3232":          "127.0.0.1:3232",
		"[::]:3232":      "[::1]:3232",
		"10.0.0.5:3232":  "10.0.0.5:3232",
		"localhost:3232": "localhost:3232",
	} {
		if got := loopbackAddr(in); got != want {
			t.Errorf("loopbackAddr(%q): got %q, want %q", in, got, want)
		}
	}
}
