package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConsole(t *testing.T) {
	s := startPushd(t, "console_password: letmein\n")
	// Off-limits without the password.
	resp, err := http.Get(s.APIURL() + "/console")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("console without login: %d, want 401", resp.StatusCode)
	}
	// A logged-in browser cannot be made to trigger from another site: a
	// form post (no preflight) is refused for its content type, a JSON post
	// naming another origin for its origin; nothing reaches subscribers.
	spy, _ := connect(t, s, "app-key")
	spy.send(`{"event":"pusher:subscribe","data":{"channel":"console-channel"}}`)
	spy.expect("pusher_internal:subscription_succeeded")
	trig := s.APIURL() + "/console/api/trigger?app=app-key"
	for _, tc := range []struct {
		name, ctype, origin, body string
		want                      int
	}{
		{"form post", "application/x-www-form-urlencoded", "", "name=evil&channel=console-channel&data=x", http.StatusUnsupportedMediaType},
		{"text/plain post", "text/plain", "https://evil.example", `{"name":"evil","channel":"console-channel","data":"x"}`, http.StatusUnsupportedMediaType},
		{"JSON from another origin", "application/json", "https://evil.example", `{"name":"evil","channel":"console-channel","data":"x"}`, http.StatusForbidden},
		{"JSON with trailing data", "application/json", "", `{"name":"evil","channel":"console-channel","data":"x"} x`, http.StatusBadRequest},
	} {
		req, _ := http.NewRequest(http.MethodPost, trig, strings.NewReader(tc.body))
		req.SetBasicAuth("", "letmein")
		req.Header.Set("Content-Type", tc.ctype)
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("console trigger, %s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	spy.expectNothing(500 * time.Millisecond)
	// A live subscriber for the console to show; it also receives the
	// console's event.
	c, _ := connect(t, s, "app-key")
	c.send(`{"event":"pusher:subscribe","data":{"channel":"console-channel"}}`)
	c.expect("pusher_internal:subscription_succeeded")
	if _, err := os.Stat("browser/node_modules/playwright-core"); err != nil {
		t.Fatal("e2e/browser/node_modules is missing: run `go tool task deps`")
	}
	shot := filepath.Join(t.TempDir(), "console.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "console.check.mjs")
	cmd.Dir = "browser"
	cmd.Env = append(os.Environ(), "CONSOLE_URL="+s.APIURL()+"/console", "CONSOLE_PASSWORD=letmein", "SCREENSHOT="+shot)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("console in chromium: %v", err)
	}
	if f := c.expect("console-event"); f.dataString(t) != `{"from":"the console"}` {
		t.Fatalf("subscriber got %s from the console's form", f.raw)
	}
	st, err := os.Stat(shot)
	if err != nil || st.Size() < 10000 {
		t.Fatalf("screenshot missing or empty: %v", err)
	}
	if dir := os.Getenv("PUSHD_SCREENSHOTS"); dir != "" {
		b, _ := os.ReadFile(shot)
		os.WriteFile(filepath.Join(dir, "console.png"), b, 0o644)
	}
}
