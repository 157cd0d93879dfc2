package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pushd/pushd/config"
)

// TestListenCredentials proves the NATS listener always gets credentials:
// generated on first start into the data directory (0600), read back on
// later starts, and shown in full only when they were created.
func TestListenCredentials(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Config{DataDir: dir, NATSListen: "127.0.0.1:4222"}
	src, err := listenCredentials(&cfg)
	if err != nil || src != credsCreated {
		t.Fatalf("first start: %v %v, want created", src, err)
	}
	a := cfg.NATSListenAuth
	if a.User != listenerUser || len(a.Password) < 32 {
		t.Fatalf("generated user %q password %q, want user %s and a long random password", a.User, a.Password, listenerUser)
	}
	st, err := os.Stat(filepath.Join(dir, listenCredsFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v, want mode 0600", st, err)
	}
	line := listenerLine(cfg, src)
	if want := "nats://pushd:" + a.Password + "@127.0.0.1:4222"; !strings.Contains(line, want) {
		t.Fatalf("first banner %q, want the ready-to-paste URL %s", line, want)
	}

	again := config.Config{DataDir: dir, NATSListen: "127.0.0.1:4222"}
	src, err = listenCredentials(&again)
	if err != nil || src != credsGenerated || again.NATSListenAuth != a {
		t.Fatalf("second start: %v %v %+v, want the same generated credentials", src, err, again.NATSListenAuth)
	}
	if line := listenerLine(again, src); strings.Contains(line, a.Password) || !strings.Contains(line, listenCredsFile) {
		t.Fatalf("later banner %q, want no password and the file that keeps it", line)
	}

	configured := config.Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:4222",
		NATSListenAuth: config.NATSListenAuth{Token: "tok", CertFile: "c.pem", KeyFile: "k.pem"}}
	if src, err := listenCredentials(&configured); err != nil || src != credsConfigured || configured.NATSListenAuth.User != "" {
		t.Fatalf("configured token: %v %v %+v, want the configuration untouched", src, err, configured.NATSListenAuth)
	}
	if line := listenerLine(configured, credsConfigured); strings.Contains(line, "tok") || !strings.HasPrefix(line, "tls://") {
		t.Fatalf("configured banner %q, want tls:// and no token", line)
	}
	if _, err := os.Stat(filepath.Join(configured.DataDir, listenCredsFile)); !os.IsNotExist(err) {
		t.Fatalf("credentials generated although configured: %v", err)
	}

	off := config.Config{DataDir: t.TempDir()}
	if src, err := listenCredentials(&off); err != nil || src != credsConfigured || off.NATSListenAuth.User != "" {
		t.Fatalf("no listener: %v %v %+v, want nothing generated", src, err, off.NATSListenAuth)
	}
}
