package e2e

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runPushdFails runs pushd with args (and attr, when set) and requires it to
// exit with an error within limit. It returns what pushd printed.
func runPushdFails(t *testing.T, limit time.Duration, attr *syscall.SysProcAttr, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	all := append([]string{"--ws-addr", "127.0.0.1:" + strconv.Itoa(freePort(t)),
		"--api-addr", "127.0.0.1:" + strconv.Itoa(freePort(t))}, args...)
	cmd := exec.CommandContext(ctx, pushdBin, all...)
	cmd.SysProcAttr = attr
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("pushd %v still running after %s, want a fast exit with the cause:\n%s", args, limit, out)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("pushd %v: %v, want it to exit with an error:\n%s", args, err, out)
	}
	return string(out)
}

// TestDataDirInUse is issue 13 #4: two pushd on one data directory both ran
// (two JetStream servers on the same files). The second now exits at once
// and names the directory and the process that has it; the first keeps
// serving.
func TestDataDirInUse(t *testing.T) {
	a := startPushd(t, "")
	out := runPushdFails(t, 5*time.Second, nil, "--config", a.ConfigPath, "--data-dir", a.DataDir)
	for _, want := range []string{"in use by another pushd", a.DataDir, "pid " + strconv.Itoa(a.cmd.Process.Pid)} {
		if !strings.Contains(out, want) {
			t.Fatalf("second pushd on %s said:\n%s\nwant it to mention %q", a.DataDir, out, want)
		}
	}
	if st := readyStatus(t, a); st != http.StatusOK {
		t.Fatalf("first pushd: readyz %d after the second was refused, want 200", st)
	}
}

// TestDataDirNotWritable is issue 13 #4: an unwritable data directory gave
// only "embedded nats: not ready after 10s", after 10 s. pushd now exits at
// once with the cause. As root, permissions do not stop a process, so the
// server then runs as nobody.
func TestDataDirNotWritable(t *testing.T) {
	base, err := os.MkdirTemp("", "pushd-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	data := filepath.Join(base, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	var attr *syscall.SysProcAttr
	if os.Geteuid() == 0 {
		// nobody may traverse the directories and run the binary, not write.
		for _, d := range []string{base, filepath.Dir(pushdBin)} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		attr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	} else {
		if err := os.Chmod(data, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(data, 0o700) })
	}
	out := runPushdFails(t, 5*time.Second, attr, "--data-dir", data, "--app-key", "k", "--app-secret", "s")
	if !strings.Contains(out, "permission denied") || !strings.Contains(out, data) {
		t.Fatalf("pushd on an unwritable data dir said:\n%s\nwant the directory and \"permission denied\"", out)
	}
}
