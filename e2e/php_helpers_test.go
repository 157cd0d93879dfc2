package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The PHP side of webman/push, run for real: e2e/php holds a client that
// signs as webman's Api class does (WebmanApi.php), a command line for it
// (cli.php) and a webhook receiver for php -S (hook_router.php).

// phpTimeout bounds one php command.
const phpTimeout = 30 * time.Second

// requirePHP fails the test unless php and its curl extension are there.
func requirePHP(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("php"); err != nil {
		t.Fatalf("php is not installed: run `go tool task php` (Debian's php-cli and php-curl): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), phpTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "php", "-m").Output()
	if err != nil {
		t.Fatalf("php -m: %v", err)
	}
	if !bytes.Contains(append([]byte("\n"), out...), []byte("\ncurl\n")) {
		t.Fatalf("php has no curl extension: run `go tool task php` (php-curl); php -m lists:\n%s", out)
	}
}

// phpApp is what cli.php needs to reach one app.
type phpApp struct {
	s           *server
	key, secret string
	id          string // "" = webman's 1024
	authVersion string // "" = none, as webman's Api
}

// run runs cli.php with args and returns its stdout; it fails t when php
// exits with an error.
func (a phpApp) run(t *testing.T, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), phpTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "php", append([]string{"cli.php"}, args...)...)
	cmd.Dir = "php"
	cmd.Env = append(os.Environ(), "PUSHD_API_URL="+a.s.APIURL(), "APP_KEY="+a.key, "APP_SECRET="+a.secret,
		"APP_ID="+a.id, "AUTH_VERSION="+a.authVersion)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("php cli.php %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return out
}

// phpAnswer is an API answer as cli.php prints it.
type phpAnswer struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
}

// api runs an API sub-command of cli.php.
func (a phpApp) api(t *testing.T, args ...string) phpAnswer {
	t.Helper()
	out := a.run(t, args...)
	var ans phpAnswer
	if err := json.Unmarshal(out, &ans); err != nil {
		t.Fatalf("php cli.php %s printed %q: %v", strings.Join(args, " "), out, err)
	}
	return ans
}

// ok runs an API sub-command and fails unless the answer is 200.
func (a phpApp) ok(t *testing.T, args ...string) string {
	t.Helper()
	ans := a.api(t, args...)
	if ans.Status != http.StatusOK {
		t.Fatalf("php cli.php %s: status %d %s, want 200", strings.Join(args, " "), ans.Status, ans.Body)
	}
	return strings.TrimSpace(ans.Body)
}

// waitBody polls an API sub-command for up to 10 s until its 200 answer is
// want (the counts behind channel queries are flushed every 50 ms).
func (a phpApp) waitBody(t *testing.T, want string, args ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := a.ok(t, args...)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("php cli.php %s: got %s, want %s", strings.Join(args, " "), got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// phpAuth is a backend's answer to a client's auth request.
type phpAuth struct {
	Auth        string `json:"auth"`
	ChannelData string `json:"channel_data"`
}

// auth runs one of cli.php's auth sub-commands.
func (a phpApp) auth(t *testing.T, args ...string) phpAuth {
	t.Helper()
	out := a.run(t, args...)
	var ans phpAuth
	if err := json.Unmarshal(out, &ans); err != nil || ans.Auth == "" {
		t.Fatalf("php cli.php %s printed %q, want {\"auth\":…}: %v", strings.Join(args, " "), out, err)
	}
	return ans
}

// phpHookRecord is what hook_router.php learned from one request.
type phpHookRecord struct {
	Path            string       `json:"path"`
	OK              bool         `json:"ok"`
	TimeMS          any          `json:"time_ms"`
	ChannelsOnline  []string     `json:"channels_online"`
	ChannelsOffline []string     `json:"channels_offline"`
	UsersAdded      []phpHookMem `json:"users_added"`
	UsersRemoved    []phpHookMem `json:"users_removed"`
	Other           []string     `json:"other"`
}

// phpHookMem is a user_added / user_removed entry; UserID keeps the JSON
// type webman's receiver got.
type phpHookMem struct {
	Channel string `json:"channel"`
	UserID  any    `json:"user_id"`
}

// phpHooks is hook_router.php served by php -S on 127.0.0.1.
type phpHooks struct {
	t   *testing.T
	URL string
	log string
}

// probePath is the path the readiness probe uses; its records are ignored.
const probePath = "/probe"

// startPHPHooks starts the PHP webhook receiver for one app and waits
// until it answers.
func startPHPHooks(t *testing.T, key, secret string) *phpHooks {
	t.Helper()
	h := &phpHooks{t: t, log: filepath.Join(t.TempDir(), "hooks.jsonl")}
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	h.URL = "http://" + addr
	cmd := exec.Command("php", "-S", addr, "hook_router.php")
	cmd.Dir = "php"
	cmd.Env = append(os.Environ(), "APP_KEY="+key, "APP_SECRET="+secret, "HOOK_LOG="+h.log)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("php -S %s: %v", addr, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("php -S did not exit after SIGKILL")
		}
		if t.Failed() {
			t.Logf("php -S log:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(h.URL + probePath)
		if err == nil {
			resp.Body.Close()
			return h
		}
		select {
		case <-done:
			t.Fatalf("php -S exited before answering:\n%s", out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("php -S not answering after 10s: %v\n%s", err, out.String())
		}
	}
}

// records returns what the receiver logged, without the probes.
func (h *phpHooks) records() []phpHookRecord {
	h.t.Helper()
	f, err := os.Open(h.log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		h.t.Fatalf("open webhook log: %v", err)
	}
	defer f.Close()
	var out []phpHookRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r phpHookRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			h.t.Fatalf("webhook log line %q: %v", sc.Text(), err)
		}
		if r.Path != probePath {
			out = append(out, r)
		}
	}
	return out
}

// waitFor waits up to within until some authentic request satisfies pred.
func (h *phpHooks) waitFor(what string, within time.Duration, pred func(phpHookRecord) bool) phpHookRecord {
	h.t.Helper()
	deadline := time.Now().Add(within)
	for {
		for _, r := range h.records() {
			if r.OK && pred(r) {
				return r
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(h.log)
			h.t.Fatalf("PHP webhook receiver: no %s within %s; it logged:\n%s", what, within, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
