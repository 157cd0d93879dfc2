package deploy

import (
	"debug/buildinfo"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// podman runs podman on a storage of the test's own (images, containers,
// volumes and network state in dir), so nothing is left on the machine.
type podman struct {
	t   *testing.T
	dir string
}

func (p podman) run(timeout time.Duration, args ...string) string {
	p.t.Helper()
	all := append([]string{"--root", filepath.Join(p.dir, "root"), "--runroot", filepath.Join(p.dir, "run")}, args...)
	return run(p.t, timeout, "", nil, "podman", all...)
}

// TestContainerImage builds the Dockerfile's image around the release binary
// (BIN=dist: scratch and local files only, since no registry is reachable
// here), checks its configuration, runs it with podman and connects a
// client through the published ports; then checks its HEALTHCHECK and that
// it stops cleanly on `podman stop` (SIGTERM).
func TestContainerImage(t *testing.T) {
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatal("podman not found: `go tool task deps` installs it (Debian's podman and runc)")
	}
	dist := releaseBinary(t)
	// scratch has no /etc/ssl/certs: the binary must carry Go's fallback
	// roots, or webhooks to https:// URLs fail in the image.
	info, err := buildinfo.ReadFile(filepath.Join(dist, "pushd-linux-amd64"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(info.Deps, func(m *debug.Module) bool { return m.Path == "golang.org/x/crypto/x509roots/fallback" }) {
		t.Errorf("the binary does not embed golang.org/x/crypto/x509roots/fallback: no CA roots on scratch")
	}

	// The build context: what the repository has for the image, plus dist/.
	ctx := t.TempDir()
	for _, f := range []string{".dockerignore", "deploy/container/rootfs/etc/passwd", "deploy/container/rootfs/etc/group",
		"deploy/container/rootfs/data/.keep", "dist/pushd-linux-amd64"} {
		src := repo(t, f)
		if strings.HasPrefix(f, "dist/") {
			src = filepath.Join(dist, filepath.Base(f))
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(ctx, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p := podman{t: t, dir: t.TempDir()}
	tag := "localhost/pushd-test:" + strconv.Itoa(os.Getpid())
	start := time.Now()
	p.run(3*time.Minute, "build", "--format", "docker", "--build-arg", "BIN=dist", "--build-arg", "TARGETARCH=amd64",
		"-f", repo(t, "Dockerfile"), "-t", tag, ctx)
	t.Logf("image built in %s", time.Since(start).Round(time.Millisecond))

	var images []struct {
		Size        int64
		Healthcheck struct{ Test []string } // podman keeps it beside Config
		Config      struct {
			User         string
			Env          []string
			Entrypoint   []string
			ExposedPorts map[string]struct{}
			Volumes      map[string]struct{}
		}
	}
	if err := json.Unmarshal([]byte(p.run(30*time.Second, "image", "inspect", tag)), &images); err != nil || len(images) != 1 {
		t.Fatalf("podman image inspect %s: %v (%d images)", tag, err, len(images))
	}
	img := images[0]
	t.Logf("image size: %.1f MB", float64(img.Size)/1e6)
	if img.Size > 40e6 {
		t.Errorf("image size %d bytes, want under 40 MB (the binary alone on scratch)", img.Size)
	}
	c := img.Config
	if c.User != "65532:65532" {
		t.Errorf("image user %q, want the numeric non-root 65532:65532", c.User)
	}
	if !slices.Equal(c.Entrypoint, []string{"/pushd"}) {
		t.Errorf("entrypoint %q, want [/pushd]", c.Entrypoint)
	}
	for _, port := range []string{"3131/tcp", "3232/tcp"} {
		if _, ok := c.ExposedPorts[port]; !ok {
			t.Errorf("port %s not exposed (%v)", port, c.ExposedPorts)
		}
	}
	if _, ok := c.Volumes["/data"]; !ok {
		t.Errorf("no /data volume (%v)", c.Volumes)
	}
	if !slices.Equal(img.Healthcheck.Test, []string{"CMD", "/pushd", "--healthcheck"}) {
		t.Errorf("healthcheck %q, want [CMD /pushd --healthcheck]", img.Healthcheck.Test)
	}
	for _, env := range []string{"PUSHD_WS_ADDR=0.0.0.0:3131", "PUSHD_API_ADDR=0.0.0.0:3232", "PUSHD_DATA_DIR=/data"} {
		if !slices.Contains(c.Env, env) {
			t.Errorf("image env lacks %s (%v)", env, c.Env)
		}
	}

	// podman's default rlimits exceed what some sandboxes let a process
	// set (this one refuses more than 32768 processes), so the container
	// gets this process's open-file limit and 4096 processes. runc, where
	// installed, because crun refuses hybrid cgroup hierarchies.
	var nofile syscall.Rlimit
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile)
	args := []string{"run", "-d", "--name", "pushd-test-" + strconv.Itoa(os.Getpid()),
		"--ulimit", "nofile=" + strconv.FormatUint(nofile.Cur, 10) + ":" + strconv.FormatUint(nofile.Cur, 10),
		"--ulimit", "nproc=4096:4096",
		// No timer: the health check is run below with `podman healthcheck run`.
		"--health-interval", "disable",
		"-p", "127.0.0.1::3131", "-p", "127.0.0.1::3232",
		"-e", "PUSHD_APP_ID=" + testApp.id, "-e", "PUSHD_APP_KEY=" + testApp.key, "-e", "PUSHD_APP_SECRET=" + testApp.secret}
	if _, err := exec.LookPath("runc"); err == nil {
		args = append(args, "--runtime", "runc")
	}
	id := strings.TrimSpace(lastLine(p.run(time.Minute, append(args, tag)...)))
	t.Cleanup(func() { p.run(time.Minute, "rm", "-f", "-v", id) })
	port := func(inner string) string {
		return strings.TrimSpace(lastLine(p.run(10*time.Second, "port", id, inner)))
	}
	e := endpoints{ws: "ws://" + port("3131/tcp"), api: "http://" + port("3232/tcp")}
	checkServes(t, e)
	p.run(30*time.Second, "healthcheck", "run", id) // exit 0: healthy

	p.run(time.Minute, "stop", "-t", "20", id)
	code := strings.TrimSpace(p.run(10*time.Second, "inspect", id, "--format", "{{.State.ExitCode}}"))
	logs := p.run(10*time.Second, "logs", id)
	if code != "0" || !strings.Contains(logs, "shutting down") {
		t.Errorf("after podman stop: exit code %s, want 0 after a graceful shutdown\n%s", code, logs)
	}
}

// lastLine is the last non-empty line of a command's output (podman prints
// warnings before its answer on some machines).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
