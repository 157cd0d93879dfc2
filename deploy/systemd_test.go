package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSystemdUnit checks deploy/systemd/pushd.service with systemd's own
// tools (systemd-analyze verify: syntax, directives, executables; and
// security --offline: hardening exposure at most 2.0, "OK"), that it has the
// settings the docs promise, and that pushd accepts its command line. Only
// the binary's path is changed, to the release binary the tests build: no
// pushd is installed in /usr/local/bin here, and systemd cannot start
// services where it is not PID 1.
func TestSystemdUnit(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Fatal("systemd-analyze not found: Debian's systemd package has it")
	}
	b, err := os.ReadFile(repo(t, "deploy", "systemd", "pushd.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for _, want := range []string{"User=pushd", "StateDirectory=pushd", "ProtectSystem=strict", "NoNewPrivileges=yes",
		"LimitNOFILE=1048576", "KillSignal=SIGTERM", "ExecReload=/bin/kill -HUP $MAINPID", "CapabilityBoundingSet=\n"} {
		if !strings.Contains(unit, want) {
			t.Errorf("pushd.service lacks %q", want)
		}
	}
	if b, err := os.ReadFile(repo(t, "deploy", "systemd", "pushd.sysusers")); err != nil || !regexp.MustCompile(`(?m)^u pushd `).Match(b) {
		t.Errorf("pushd.sysusers does not create the pushd user (%v)", err)
	}
	exe := regexp.MustCompile(`(?m)^ExecStart=(\S+)(.*)$`).FindStringSubmatch(unit)
	if exe == nil || exe[1] != "/usr/local/bin/pushd" {
		t.Fatalf("ExecStart %q, want /usr/local/bin/pushd", exe)
	}
	bin := filepath.Join(releaseBinary(t), "pushd-linux-amd64")
	dir := t.TempDir()
	path := filepath.Join(dir, "pushd.service")
	if err := os.WriteFile(path, []byte(strings.Replace(unit, "ExecStart=/usr/local/bin/pushd", "ExecStart="+bin, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, 30*time.Second, dir, nil, "systemd-analyze", "verify", path)
	out := run(t, 30*time.Second, dir, nil, "systemd-analyze", "security", "--offline=true", "--threshold=20", path)
	t.Log(lastLine(out))

	// The flags of ExecStart exist (--version answers after parsing them).
	args := append(strings.Fields(exe[2]), "--version")
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "pushd ") {
		t.Errorf("pushd %s: %v %s", strings.Join(args, " "), err, out)
	}
}
