package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/wasmclient"
	"golang.org/x/crypto/nacl/secretbox"
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

// TestConsoleManagesApps: with the admin token typed into the console, an
// admin creates an app from its form and rotates the app's secret
// (headless Chromium); the secrets the page showed work on the API (the
// first one still, during its grace period), and the new app is in the
// console's app list.
func TestConsoleManagesApps(t *testing.T) {
	s := startPushd(t, "console_password: letmein\nadmin_token: "+adminToken+"\n")
	if _, err := os.Stat("browser/node_modules/playwright-core"); err != nil {
		t.Fatal("e2e/browser/node_modules is missing: run `go tool task deps`")
	}
	shot := filepath.Join(t.TempDir(), "console-apps.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "console_apps.check.mjs")
	cmd.Dir = "browser"
	cmd.Env = append(os.Environ(), "CONSOLE_URL="+s.APIURL()+"/console", "CONSOLE_PASSWORD=letmein", "ADMIN_TOKEN="+adminToken, "SCREENSHOT="+shot)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("console in chromium: %v", err)
	}
	var got struct{ Key, Created, Rotated string }
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "@@ "); ok {
			if err := json.Unmarshal([]byte(rest), &got); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got.Key != "console-made" || len(got.Created) != 32 || len(got.Rotated) != 32 || got.Created == got.Rotated {
		t.Fatalf("the page showed %+v, want the created and the rotated secret", got)
	}
	status, m := adminCall(t, s, http.MethodGet, "/admin/apps/console-made", "")
	if status != http.StatusOK || m["app"].(map[string]any)["max_connections"] != 3.0 || m["has_previous_secret"] != true {
		t.Fatalf("the app made in the console: %d %v", status, m)
	}
	id := m["app"].(map[string]any)["id"].(string)
	for _, secret := range []string{got.Rotated, got.Created} {
		if st, resp := apiCall(t, s, got.Key, secret, http.MethodPost, "/apps/"+id+"/events", nil, `{"name":"e","channel":"c","data":"1"}`); st != http.StatusOK {
			t.Fatalf("the console's app with a secret it showed: %d %s", st, resp)
		}
	}
	if dir := os.Getenv("PUSHD_SCREENSHOTS"); dir != "" {
		b, _ := os.ReadFile(shot)
		os.WriteFile(filepath.Join(dir, "console-apps.png"), b, 0o644)
	}
}

// TestConsoleEncryptsForEncryptedChannels: the console's trigger form
// encrypts what it sends to a private-encrypted- channel with the app's
// encryption_master_key, as the server SDKs do, so a subscriber decrypts
// it; without a master key it says so (400).
func TestConsoleEncryptsForEncryptedChannels(t *testing.T) {
	master := base64.StdEncoding.EncodeToString(masterKey)
	s := startPushd(t, "console_password: letmein\nadmin_token: "+adminToken+"\n")
	if status, m := adminCall(t, s, http.MethodPatch, "/admin/apps/app-key", `{"encryption_master_key":"`+master+`"}`); status != http.StatusOK || m["encryption_master_key_set"] != true {
		t.Fatalf("set the master key: %d %v", status, m)
	}
	const ch = "private-encrypted-vault"
	c, sid := connect(t, s, "app-key")
	c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": ch, "auth": protocol.ChannelAuth("app-key", "app-secret", sid, ch, "")}})
	c.expect("pusher_internal:subscription_succeeded")
	consoleTrigger := func(app, body string) int {
		req, _ := http.NewRequest(http.MethodPost, s.APIURL()+"/console/api/trigger?app="+app, strings.NewReader(body))
		req.SetBasicAuth("", "letmein")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := consoleTrigger("app-key", `{"name":"secret-news","channel":"`+ch+`","data":"{\"pin\":\"1234\"}"}`); st != http.StatusOK {
		t.Fatalf("console trigger on an encrypted channel: %d", st)
	}
	f := c.expect("secret-news")
	var sealed struct{ Nonce, Ciphertext string }
	if err := json.Unmarshal([]byte(f.dataString(t)), &sealed); err != nil || sealed.Nonce == "" {
		t.Fatalf("event data %s: want {nonce, ciphertext}", f.dataString(t))
	}
	var key [32]byte
	copy(key[:], wasmclient.SharedSecret(masterKey, ch))
	var nonce [24]byte
	n, _ := base64.StdEncoding.DecodeString(sealed.Nonce)
	box, _ := base64.StdEncoding.DecodeString(sealed.Ciphertext)
	copy(nonce[:], n)
	plain, ok := secretbox.Open(nil, box, &nonce, &key)
	if !ok || string(plain) != `{"pin":"1234"}` {
		t.Fatalf("decrypted %q (ok %v), want the console's data", plain, ok)
	}
	if st := consoleTrigger("noid-key", `{"name":"x","channel":"`+ch+`","data":"y"}`); st != http.StatusBadRequest {
		t.Fatalf("console trigger on an encrypted channel of an app without a master key: %d, want 400", st)
	}
}
