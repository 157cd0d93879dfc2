package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The JavaScript clients (js/) in headless Chromium and under Node, against
// a real pushd: see e2e/browser/*.test.mjs. Run with
//
//	cd e2e && go test -run Browser -count=1 .
//
// e2e/browser/node_modules must exist (npm ci in e2e/browser) and Debian's
// chromium be installed (go tool task deps).

func TestBrowserPushJS(t *testing.T) {
	runBrowserNode(t, startPushd(t, ""), "push.test.mjs")
}

func TestBrowserVue(t *testing.T) {
	runBrowserNode(t, startPushd(t, ""), "vue.test.mjs")
}

func TestBrowserUniapp(t *testing.T) {
	runBrowserNode(t, startPushd(t, ""), "uniapp.test.mjs")
}

// TestBrowserMiniprogram runs push-miniprogram.js as a WeChat mini-program
// loads it, over a wx object backed by real sockets and HTTP.
func TestBrowserMiniprogram(t *testing.T) {
	runBrowserNode(t, startPushd(t, ""), "miniprogram.test.mjs")
}

// TestBrowserWebmanParse runs webman/push's push.js message parsing (mirrored
// in webman.test.mjs) against the server's error frames.
func TestBrowserWebmanParse(t *testing.T) {
	runBrowserNode(t, startPushd(t, ""), "webman.test.mjs")
}

func TestBrowserCloseCodes(t *testing.T) {
	runBrowserNode(t, startPushd(t, ""), "closecodes.test.mjs")
}

// runBrowserNode runs one node test file in e2e/browser against s. While it
// runs, a test may ask for a server restart by creating restart.req (holding
// an id, or "reset:" and an id to restart with the data directory wiped)
// in PUSHD_CONTROL_DIR; the restart happens here, on the test goroutine,
// and restart.done.<id> tells the script it is over.
func runBrowserNode(t *testing.T, s *server, file string) {
	t.Helper()
	if _, err := os.Stat("browser/node_modules/playwright-core"); err != nil {
		t.Fatalf("e2e/browser/node_modules is missing: run `go tool task deps` (npm ci in e2e/browser)")
	}
	ctl := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", "--test-timeout=60000", "--test-concurrency=1", file)
	cmd.Dir = "browser"
	cmd.Env = append(s.nodeEnv(), "PUSHD_CONTROL_DIR="+ctl)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var err error
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-tick.C:
			req := filepath.Join(ctl, "restart.req")
			id, rerr := os.ReadFile(req)
			if rerr != nil {
				continue
			}
			os.Remove(req)
			if kind, rest, ok := strings.Cut(string(id), ":"); ok && kind == "reset" {
				id = []byte(rest)
				t.Logf("restarting pushd with an empty event store for %s", file)
				s.resetStore(t)
			} else {
				t.Logf("restarting pushd for %s", file)
				s.restart(t)
			}
			if werr := os.WriteFile(filepath.Join(ctl, "restart.done."+strings.TrimSpace(string(id))), nil, 0o600); werr != nil {
				t.Fatal(werr)
			}
		}
	}
	t.Logf("node %s:\n%s", file, out.String())
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, "RESUME:") && !strings.Contains(line, "#") {
			t.Log(strings.TrimSpace(line))
		}
	}
	if err != nil {
		t.Fatalf("node %s failed: %v", file, err)
	}
}

// TestBrowserResumePusherJS: pushd-resume with the browser builds of
// pusher-js 8 and Laravel Echo 2 in Chromium (e2e/browser/resume.test.mjs).
func TestBrowserResumePusherJS(t *testing.T) {
	runBrowserNode(t, startPushd(t, ""), "resume.test.mjs")
}
