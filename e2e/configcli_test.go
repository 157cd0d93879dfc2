package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runPushd runs the binary with args (bounded) and returns its output and
// exit code.
func runPushd(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, pushdBin, args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("pushd %v still running after 20 s:\n%s", args, out)
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	}
	t.Fatalf("pushd %v: %v", args, err)
	return "", 0
}

// TestHelpAndCheckConfig is issue 15's command line: --help exits 0 (it
// exited 1 with "flag: help requested") and points at the reference;
// check-config exits 1 naming each bad field, 0 with a summary.
func TestHelpAndCheckConfig(t *testing.T) {
	out, code := runPushd(t, "--help")
	if code != 0 || !strings.Contains(out, "PUSHD_WS_ADDR") || !strings.Contains(out, "docs/configuration.md") {
		t.Fatalf("pushd --help: exit %d\n%s\nwant exit 0, the PUSHD_* twins and docs/configuration.md", code, out)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("log_level: verbose\nlog_format: xml\napps:\n  - key: k\n    secret: s\n    max_connections: -2\n"), 0o600)
	out, code = runPushd(t, "check-config", bad)
	if code != 1 || !strings.Contains(out, "log_level") || !strings.Contains(out, "log_format") || !strings.Contains(out, "max_connections") {
		t.Fatalf("check-config of a bad file: exit %d\n%s\nwant exit 1 naming log_level, log_format and max_connections", code, out)
	}
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(testApps), 0o600)
	out, code = runPushd(t, "check-config", good)
	if code != 0 || !strings.Contains(out, "ok") || !strings.Contains(out, "8: app-key") {
		t.Fatalf("check-config of the test apps: exit %d\n%s\nwant exit 0 with a summary", code, out)
	}
	// A start refuses what check-config refuses.
	out = runPushdFails(t, 20*time.Second, nil, "--config", bad, "--data-dir", t.TempDir())
	if !strings.Contains(out, `"verbose" is not debug, info, warn or error`) {
		t.Fatalf("a start with the bad file said:\n%s", out)
	}
}

// TestBadReloadSaysWhy: a reload of a file with a problem keeps the running
// configuration and logs the reason with the field.
func TestBadReloadSaysWhy(t *testing.T) {
	s := startPushd(t, "")
	cfg, _ := os.ReadFile(s.ConfigPath)
	os.WriteFile(s.ConfigPath, append(cfg, []byte("\nlog_level: verbose\n")...), 0o600)
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the refused reload in the log", func() bool {
		l := s.log.String()
		return strings.Contains(l, "config reload failed, keeping the running configuration") && strings.Contains(l, "log_level")
	})
	c, _ := connect(t, s, "app-key")
	c.send(`{"event":"pusher:ping","data":{}}`)
	c.expect("pusher:pong")
}
