package deploy

import (
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// releaseDist is the dist directory of the one release build that the tests
// share (the release, container and go install tests); TestMain removes it.
var releaseDist struct {
	once sync.Once
	dir  string
	out  string
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pushd-dist-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	releaseDist.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// releaseBinary builds the linux/amd64 release binary through the release
// task, as `go tool task release` does for all five targets, and returns
// the dist directory. The build (CGO off, -trimpath) compiles everything
// once more than the tests' own builds: about 75 s of CPU on a cold cache.
func releaseBinary(t *testing.T) string {
	t.Helper()
	releaseDist.once.Do(func() {
		cmd := exec.Command("go", "tool", "task", "release", "TARGETS=linux/amd64", "DIST="+releaseDist.dir)
		cmd.Dir = repo(t)
		done := make(chan struct{})
		var out []byte
		go func() {
			out, releaseDist.err = cmd.CombinedOutput()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(6 * time.Minute):
			_ = cmd.Process.Kill()
			<-done
			releaseDist.err = fmt.Errorf("not done within 6 minutes")
		}
		releaseDist.out = string(out)
	})
	if releaseDist.err != nil {
		t.Fatalf("go tool task release TARGETS=linux/amd64: %v\n%s", releaseDist.err, releaseDist.out)
	}
	return releaseDist.dir
}

// TestRelease builds the linux/amd64 release binary with the release task and
// checks what a user downloading it relies on: the checksum file, a static
// executable (runs on any Linux, in a scratch image), the stamped version,
// and a working server with the JS clients and push.wasm embedded.
func TestRelease(t *testing.T) {
	dist := releaseBinary(t)
	bin := filepath.Join(dist, "pushd-linux-amd64")

	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatalf("SHA256SUMS: %v", err)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatalf("release binary: %v", err)
	}
	sum := sha256.Sum256(b)
	if want := hex.EncodeToString(sum[:]) + "  pushd-linux-amd64\n"; string(sums) != want {
		t.Errorf("SHA256SUMS: got %q, want %q (sha256sum -c format)", sums, want)
	}

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("release binary is not ELF: %v", err)
	}
	libs, _ := f.ImportedLibraries()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("release binary has a dynamic loader (PT_INTERP): not static")
		}
	}
	f.Close()
	if len(libs) > 0 {
		t.Errorf("release binary needs shared libraries %v: not static", libs)
	}
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatalf("build info: %v", err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	for k, want := range map[string]string{"CGO_ENABLED": "0", "-trimpath": "true", "GOOS": "linux", "GOARCH": "amd64"} {
		if settings[k] != want {
			t.Errorf("build setting %s: got %q, want %q", k, settings[k], want)
		}
	}

	head := strings.TrimSpace(run(t, 10*time.Second, repo(t), nil, "git", "rev-parse", "HEAD"))
	version := strings.TrimSpace(run(t, 10*time.Second, "", nil, bin, "--version"))
	if !strings.HasPrefix(version, "pushd ") || strings.HasPrefix(version, "pushd dev") ||
		!strings.Contains(version, " commit "+head+" built ") || !strings.Contains(version, "linux/amd64") {
		t.Errorf("--version: got %q, want the stamped version, commit %s and build date", version, head)
	}

	e := startBinary(t, bin)
	checkServes(t, e)
	run(t, 10*time.Second, "", nil, bin, "--healthcheck", "--api-addr", strings.TrimPrefix(e.api, "http://"))
	hc := exec.Command(bin, "--healthcheck", "--api-addr", "127.0.0.1:1")
	if out, err := hc.CombinedOutput(); err == nil {
		t.Errorf("--healthcheck against a closed port succeeded: %s", out)
	}
}
