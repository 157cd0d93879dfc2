package e2e

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of the given size on a new directory until the
// test ends: a disk that really fills up. It needs root (CAP_SYS_ADMIN), as
// on our machines and CI.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Fatalf("mount a %s tmpfs on %s (a full disk for real; needs root): %v", size, dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fillDisk writes a file until the disk is full and returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v, want ENOSPC", dir, err)
			}
			return path
		}
	}
}

// readyBody is /readyz's status and body.
func readyBody(t *testing.T, s *server) (int, string) {
	t.Helper()
	resp, err := http.Get(s.APIURL() + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestFullDisk is issue 13 #2: when the disk filled, every store waited 10 s
// and answered 503 without a reason, /readyz stayed 200, and nothing came
// back after space was freed. Now /readyz answers 503 with the cause, the
// API answers 503 at once with it, the log says it, and pushd recovers by
// itself once the disk has room: /readyz 200 and events flow again.
func TestFullDisk(t *testing.T) {
	t.Parallel() // mostly waits (timeouts, delays, a peer dying): runs beside the others
	disk := mountTmpfs(t, "16m")
	s := startPushdWith(t, `
apps:
  - id: "1"
    key: app-key
    secret: app-secret
    history_max_bytes: 1048576
`, "--data-dir", filepath.Join(disk, "data"))
	c, _ := connect(t, s, "app-key")
	c.send(`{"event":"pusher:subscribe","data":{"channel":"disk"}}`)
	c.expect("pusher_internal:subscription_succeeded")
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"before","channel":"disk","data":"1"}`)
	c.expect("before")

	filler := fillDisk(t, disk)
	waitFor(t, "readyz 503 naming the full disk", func() bool {
		apiCall(t, s, "app-key", "app-secret", http.MethodPost, "/apps/1/events", nil, `{"name":"lost","channel":"disk","data":"x"}`)
		st, body := readyBody(t, s)
		return st == http.StatusServiceUnavailable && strings.Contains(body, "no space left on device")
	})
	start := time.Now()
	status, body := apiCall(t, s, "app-key", "app-secret", http.MethodPost, "/apps/1/events", nil, `{"name":"lost","channel":"disk","data":"x"}`)
	var e struct{ Error string }
	if status != http.StatusServiceUnavailable || json.Unmarshal([]byte(body), &e) != nil || !strings.Contains(e.Error, "no space left on device") {
		t.Fatalf("trigger on a full disk: %d %s, want 503 naming the cause", status, body)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("503 took %s, want a quick answer", d)
	}
	if logs := s.log.String(); !strings.Contains(logs, "event storage failing") || !strings.Contains(logs, "no space left on device") {
		t.Fatalf("the log does not say storage fails and why:\n%s", logs)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, body := readyBody(t, s)
		if st == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz %d %s 30 s after space was freed, want 200", st, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The client is still there, its interest came back with the server.
	waitFor(t, "an event stored after the recovery", func() bool {
		st, _ := apiCall(t, s, "app-key", "app-secret", http.MethodPost, "/apps/1/events", nil, `{"name":"after","channel":"disk","data":"2"}`)
		return st == http.StatusOK
	})
	for {
		f := c.nextWithin(10 * time.Second)
		if f.Event == "after" {
			break
		}
		if f.Event != "lost" {
			t.Fatalf("after the recovery got %s, want event after", f.raw)
		}
	}
	if !strings.Contains(s.log.String(), "event storage works again") {
		t.Fatal("no \"event storage works again\" in the log")
	}
}
