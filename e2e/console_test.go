package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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

// TestConsole is the console in headless Chromium under load from
// pushbench (200 subscribers over 10 channels, 200 API events a second):
// each way of logging in (the form, with a visible error for a wrong
// password; the credentials in the address; the browser's own login), the
// graphs showing the load (read back from the page), the channels with
// their messages per second, members and internal channels marked, a socket's
// details and its disconnect, the stream with connects, channels occupied
// and vacated and webhooks besides events, its channel filter and its
// pause, and a screenshot of each view (in the test's temp dir, copied to
// $PUSHD_SCREENSHOTS when set). The console's actions refuse what another
// site could make a logged-in browser send.
func TestConsole(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer hook.Close()
	s := startPushd(t, "console_password: letmein\nadmin_token: "+adminToken+"\n", "--node-name", "alpha")
	if st, m := adminCall(t, s, http.MethodPatch, "/admin/apps/app-key", `{"webhook_url":"`+hook.URL+`"}`); st != http.StatusOK {
		t.Fatalf("set the webhook URL: %d %v", st, m)
	}
	consoleLogins(t, s)
	consoleRefusesOtherSites(t, s)

	// A subscriber of console-channel, which receives the console's event,
	// and the socket the console disconnects, found by its user agent.
	c, _ := connect(t, s, "app-key")
	c.send(`{"event":"pusher:subscribe","data":{"channel":"console-channel"}}`)
	c.expect("pusher_internal:subscription_succeeded")
	target := dialRawHeader(t, s.WSURL("app-key")+"?protocol=7", http.Header{"User-Agent": {"console-target/1.0"}})
	targetID := target.established()
	member, memberID := connect(t, s, "app-key")
	joinPresence(t, member, memberID, "app-key", "app-secret", "presence-room", "alice", "")

	// The load.
	bin := pushbenchBin(t)
	if bin == "" {
		t.Fatal("BENCH_PUSHBENCH=0: this test needs pushbench for its load")
	}
	loadCtx, stopLoad := context.WithTimeout(context.Background(), 90*time.Second)
	defer stopLoad()
	load := exec.CommandContext(loadCtx, bin, "fanout", "--ws", "ws://"+s.WSAddr, "--api", s.APIURL(), "--key", "app-key",
		"--secret", "app-secret", "--app-id", "1", "--conns", "200", "--channels", "10", "--rate", "200", "--duration", "60s")
	var loadOut bytes.Buffer
	load.Stdout, load.Stderr = &loadOut, &loadOut
	if err := load.Start(); err != nil {
		t.Fatal(err)
	}
	loadDone := make(chan error, 1)
	go func() { loadDone <- load.Wait() }()
	defer func() {
		stopLoad()
		<-loadDone
	}()

	if _, err := os.Stat("browser/node_modules/playwright-core"); err != nil {
		t.Fatal("e2e/browser/node_modules is missing: run `go tool task deps`")
	}
	shots := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "console.check.mjs")
	cmd.Dir = "browser"
	cmd.Env = append(os.Environ(), "CONSOLE_ORIGIN="+s.APIURL(), "CONSOLE_PASSWORD=letmein", "WS_URL=ws://"+s.WSAddr,
		"TARGET_SOCKET="+targetID, "TARGET_UA=console-target/1.0", "SHOTS="+shots)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("console in chromium: %v\npushbench: %s", err, loadOut.String())
	}
	var got struct {
		Connections, MessagesOut, MessagesIn, APIRequests float64
		ChannelRate                                       float64
	}
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "@@ "); ok {
			if err := json.Unmarshal([]byte(rest), &got); err != nil {
				t.Fatal(err)
			}
		}
	}
	// pushbench's 200 sockets are up and it publishes about 200 events a
	// second, each to 20 subscribers: the graphs show it.
	if got.Connections < 200 || got.MessagesIn <= 0 || got.MessagesOut <= 0 || got.APIRequests <= 0 || got.ChannelRate <= 0 {
		t.Fatalf("the page showed %+v: want at least 200 connections and events in, out, API requests and a channel's messages per second above 0", got)
	}
	if f := c.expect("console-event"); f.dataString(t) != `{"from":"the console"}` {
		t.Fatalf("subscriber got %s from the console's form", f.raw)
	}
	f := target.next()
	if f.Event != "pusher:error" || errorCode(t, f) != 4009 {
		t.Fatalf("the disconnected socket got %s, want pusher:error 4009", f.raw)
	}
	select {
	case code := <-target.closed:
		if code != 4009 {
			t.Fatalf("the disconnected socket was closed with %d, want 4009", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the disconnected socket was not closed")
	}
	for _, name := range []string{"login", "overview", "channels", "connections", "events", "events-filtered", "apps-view"} {
		st, err := os.Stat(filepath.Join(shots, name+".png"))
		if err != nil || st.Size() < 10000 {
			t.Fatalf("screenshot %s missing or empty: %v", name, err)
		}
		if dir := os.Getenv("PUSHD_SCREENSHOTS"); dir != "" {
			b, _ := os.ReadFile(filepath.Join(shots, name+".png"))
			os.WriteFile(filepath.Join(dir, "console-"+name+".png"), b, 0o644)
		}
	}
}

// consoleLogins checks the console's doors without a browser: the page is
// served to anyone (it holds no data; its form asks for the login), with a
// policy that keeps it to its own origin; /console?basic asks the browser
// for credentials; the API wants them, and answers the page's own requests
// without a challenge so that the browser shows the page's form, not its
// dialog.
func consoleLogins(t *testing.T, s *server) {
	t.Helper()
	get := func(path string, h http.Header) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, s.APIURL()+path, nil)
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get("/console", nil); r.StatusCode != http.StatusOK || !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("the page without login: %d, CSP %q; want 200 and a policy", r.StatusCode, r.Header.Get("Content-Security-Policy"))
	}
	if r := get("/console?basic", nil); r.StatusCode != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("/console?basic without login: %d, challenge %q; want 401 with one", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	if r := get("/console/api/apps", nil); r.StatusCode != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("the API without login: %d, challenge %q; want 401 with one", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	if r := get("/console/api/apps", http.Header{"X-Pushd-Console": {"1"}}); r.StatusCode != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") != "" {
		t.Fatalf("the page's API call without login: %d, challenge %q; want 401 without one", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	if r := get("/console/assets/uPlot.iife.min.js", http.Header{"Accept-Encoding": {"gzip"}}); r.StatusCode != http.StatusOK || r.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("the chart library: %d, encoding %q; want 200 gzip", r.StatusCode, r.Header.Get("Content-Encoding"))
	}
}

// consoleRefusesOtherSites: a logged-in browser cannot be made to trigger an
// event or disconnect a socket from another site: a form post (no
// preflight) is refused for its content type, a JSON post naming another
// origin for its origin; nothing reaches subscribers and nobody is
// disconnected.
func consoleRefusesOtherSites(t *testing.T, s *server) {
	t.Helper()
	spy, spyID := connect(t, s, "app-key")
	spy.send(`{"event":"pusher:subscribe","data":{"channel":"console-channel"}}`)
	spy.expect("pusher_internal:subscription_succeeded")
	trig := s.APIURL() + "/console/api/trigger?app=app-key"
	disc := s.APIURL() + "/console/api/disconnect?app=app-key"
	kick := `{"socket_id":"` + spyID + `"}`
	for _, tc := range []struct {
		name, url, ctype, origin, body string
		want                           int
	}{
		{"form post", trig, "application/x-www-form-urlencoded", "", "name=evil&channel=console-channel&data=x", http.StatusUnsupportedMediaType},
		{"text/plain post", trig, "text/plain", "https://evil.example", `{"name":"evil","channel":"console-channel","data":"x"}`, http.StatusUnsupportedMediaType},
		{"JSON from another origin", trig, "application/json", "https://evil.example", `{"name":"evil","channel":"console-channel","data":"x"}`, http.StatusForbidden},
		{"JSON with trailing data", trig, "application/json", "", `{"name":"evil","channel":"console-channel","data":"x"} x`, http.StatusBadRequest},
		{"disconnect by form post", disc, "application/x-www-form-urlencoded", "", "socket_id=" + spyID, http.StatusUnsupportedMediaType},
		{"disconnect from another origin", disc, "application/json", "https://evil.example", kick, http.StatusForbidden},
		{"disconnect without a socket id", disc, "application/json", "", `{}`, http.StatusBadRequest},
		{"disconnect of no socket", disc, "application/json", "", `{"socket_id":"1.1"}`, http.StatusAccepted},
	} {
		req, _ := http.NewRequest(http.MethodPost, tc.url, strings.NewReader(tc.body))
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
			t.Errorf("console, %s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	spy.expectNothing(500 * time.Millisecond)
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
