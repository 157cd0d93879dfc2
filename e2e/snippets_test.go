package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
)

// The code snippets of README.md and docs/*.md that are meant to run carry
// an HTML comment on the line before their fence (invisible on GitHub):
//
//	<!-- snippet: NAME [option ...] -->
//
// and TestDocSnippets runs each as written, in document order, against a
// real pushd. By the fence's language:
//
//   - yaml: a pushd config file, checked with `pushd check-config` (exit 0);
//     with missing-files, its only problems must be files of this machine
//     it names (/etc/pushd/…), everything else valid.
//   - sh: run by bash in the repository root, with PUSHD_DATA_DIR set to a
//     temporary directory so that nothing lands in the clone.
//   - js: run by node in e2e/node (its node_modules: pusher, pusher-js),
//     with APP_KEY and APP_SECRET defined as the app the server generated;
//     pusher-js gives the page's global Pusher (a browser snippet).
//   - php: checked by `php -l` (a fragment of a config array is wrapped in
//     `<?php return [ … ];`).
//
// Options: background (keep it running while the file's next snippets
// run; stopped at the end of the file), ready=URL (a background snippet is
// ready when GET URL answers 200), ready=occupied:CHANNEL (when the
// generated app's CHANNEL has a subscriber), expect=TEXT (the output must
// contain TEXT; a background snippet's output is checked at the end of its
// file). Every run is bounded.

// snippet is one tagged code block.
type snippet struct {
	file, name, lang, body string
	line                   int
	opts                   map[string]string
}

var (
	snippetTag = regexp.MustCompile(`^\s*<!--\s*snippet:\s*(\S+)(.*?)\s*-->\s*$`)
	fenceOpen  = regexp.MustCompile("^(\\s*)```(\\w*)\\s*$")
)

// parseSnippets reads the tagged blocks of a markdown file.
func parseSnippets(t *testing.T, path string) []snippet {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	var out []snippet
	for i := 0; i < len(lines); i++ {
		m := snippetTag.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		s := snippet{file: filepath.Base(path), name: m[1], line: i + 1, opts: map[string]string{}}
		for _, o := range strings.Fields(m[2]) {
			k, v, _ := strings.Cut(o, "=")
			s.opts[k] = strings.Trim(v, `"`)
		}
		if i+1 >= len(lines) {
			t.Fatalf("%s:%d: snippet %s has no code block after it", path, s.line, s.name)
		}
		f := fenceOpen.FindStringSubmatch(lines[i+1])
		if f == nil || f[2] == "" {
			t.Fatalf("%s:%d: snippet %s: the next line must open a fenced block with a language, got %q", path, s.line, s.name, lines[i+1])
		}
		indent := f[1]
		s.lang = f[2]
		var body []string
		j := i + 2
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
			body = append(body, strings.TrimPrefix(lines[j], indent))
		}
		if j == len(lines) {
			t.Fatalf("%s:%d: snippet %s: the block is not closed", path, s.line, s.name)
		}
		s.body = strings.Join(body, "\n") + "\n"
		out = append(out, s)
		i = j
	}
	return out
}

// TestDocSnippets runs the tagged snippets of README.md and docs/*.md.
func TestDocSnippets(t *testing.T) {
	files, _ := filepath.Glob("../docs/*.md")
	files = append([]string{"../README.md"}, files...)
	total := 0
	for _, f := range files {
		snips := parseSnippets(t, f)
		if len(snips) == 0 {
			continue
		}
		total += len(snips)
		t.Run(filepath.Base(f), func(t *testing.T) { runSnippets(t, snips) })
	}
	if total < 10 {
		t.Fatalf("found %d tagged snippets, want the docs' runnable ones (at least 10): is the tag format still <!-- snippet: NAME -->?", total)
	}
}

// snippetRun is the state the snippets of one file share.
type snippetRun struct {
	dataDir    string // PUSHD_DATA_DIR of the sh snippets
	background []*bgSnippet
}

type bgSnippet struct {
	s    snippet
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

func runSnippets(t *testing.T, snips []snippet) {
	r := &snippetRun{dataDir: t.TempDir()}
	t.Cleanup(func() {
		for _, b := range r.background {
			b.stop()
		}
	})
	for _, s := range snips {
		ok := t.Run(s.name, func(t *testing.T) {
			t.Logf("%s:%d (%s)", s.file, s.line, s.lang)
			switch s.lang {
			case "yaml":
				runYAMLSnippet(t, s)
			case "sh", "js", "php":
				r.runCode(t, s)
			default:
				t.Fatalf("snippet of a language the runner does not know: %q", s.lang)
			}
		})
		if !ok {
			break // later snippets of the file build on this one
		}
	}
	for _, b := range r.background {
		if want := b.s.opts["expect"]; want != "" {
			t.Run(b.s.name+" output", func(t *testing.T) {
				deadline := time.Now().Add(10 * time.Second)
				for !strings.Contains(b.out.String(), want) {
					if time.Now().After(deadline) {
						t.Fatalf("%s:%d: background snippet %s never printed %q; it printed:\n%s", b.s.file, b.s.line, b.s.name, want, b.out.String())
					}
					time.Sleep(50 * time.Millisecond)
				}
			})
		}
	}
}

// runYAMLSnippet checks a config file with `pushd check-config`.
func runYAMLSnippet(t *testing.T, s snippet) {
	path := filepath.Join(t.TempDir(), "pushd.yaml")
	if err := os.WriteFile(path, []byte(s.body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := runPushd(t, "check-config", path)
	if _, missing := s.opts["missing-files"]; missing {
		var other []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			if !strings.Contains(l, "no such file or directory") {
				other = append(other, l)
			}
		}
		if code != 1 || len(other) > 0 {
			t.Fatalf("%s:%d: check-config exit %d, problems other than the files it names:\n%s", s.file, s.line, code, out)
		}
		return
	}
	if code != 0 {
		t.Fatalf("%s:%d: check-config exit %d:\n%s", s.file, s.line, code, out)
	}
}

// runCode runs a sh, js or php snippet, in the foreground or background.
func (r *snippetRun) runCode(t *testing.T, s snippet) {
	cmd, err := r.command(t, s)
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // go run and its child stop together
	if _, bg := s.opts["background"]; bg {
		b := &bgSnippet{s: s, cmd: cmd, out: out, done: make(chan struct{})}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { cmd.Wait(); close(b.done) }()
		r.background = append(r.background, b)
		r.waitReady(t, b)
		return
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Fatalf("%s:%d: still running after 60 s; output:\n%s", s.file, s.line, out.String())
	}
	if err != nil {
		t.Fatalf("%s:%d: %v; output:\n%s", s.file, s.line, err, out.String())
	}
	if want := s.opts["expect"]; want != "" && !strings.Contains(out.String(), want) {
		t.Fatalf("%s:%d: output does not contain %q:\n%s", s.file, s.line, want, out.String())
	}
}

// command builds the process of a snippet.
func (r *snippetRun) command(t *testing.T, s snippet) (*exec.Cmd, error) {
	dir := t.TempDir()
	switch s.lang {
	case "sh":
		if _, bg := s.opts["background"]; bg {
			for _, p := range []string{"3131", "3232"} {
				ln, err := net.Listen("tcp", "127.0.0.1:"+p)
				if err != nil {
					return nil, fmt.Errorf("port %s is in use: the docs' snippets run on the documented ports: %w", p, err)
				}
				ln.Close()
			}
		}
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", s.body)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "PUSHD_DATA_DIR="+r.dataDir)
		return cmd, nil
	case "js":
		if _, err := os.Stat("node/node_modules/pusher"); err != nil {
			return nil, errors.New("e2e/node/node_modules is missing: run `go tool task deps` (npm ci in e2e/node)")
		}
		key, secret := r.generatedApp(t)
		prelude := "const APP_KEY = process.env.APP_KEY, APP_SECRET = process.env.APP_SECRET;\n"
		if _, ok := s.opts["pusher-js"]; ok {
			prelude += "const Pusher = require('pusher-js'); // the page's <script src=\"pusher.min.js\">\n"
		}
		ext := ".cjs"
		if regexp.MustCompile(`(?m)^import `).MatchString(s.body) {
			ext = ".mjs"
			prelude = strings.ReplaceAll(prelude, "const Pusher = require('pusher-js');", "import Pusher from 'pusher-js';")
		}
		// In e2e/node, so that the snippet's require/import finds its
		// node_modules; removed by the cleanup.
		file := filepath.Join("node", "snippet-"+s.name+ext)
		if err := os.WriteFile(file, []byte(prelude+s.body), 0o600); err != nil {
			return nil, err
		}
		t.Cleanup(func() { os.Remove(file) })
		cmd := exec.Command("node", filepath.Base(file))
		cmd.Dir = "node"
		cmd.Env = append(os.Environ(), "APP_KEY="+key, "APP_SECRET="+secret)
		return cmd, nil
	case "php":
		body := s.body
		if !strings.HasPrefix(strings.TrimSpace(body), "<?php") {
			body = "<?php return [\n" + body + "];\n" // a fragment of a config array
		}
		file := filepath.Join(dir, "snippet.php")
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			return nil, err
		}
		return exec.Command("php", "-l", file), nil
	}
	return nil, fmt.Errorf("no runner for %s", s.lang)
}

// generatedApp is the app a server started by a sh snippet generated (its
// data dir is the run's), or the test apps' app-key when there is none.
func (r *snippetRun) generatedApp(t *testing.T) (key, secret string) {
	b, err := os.ReadFile(filepath.Join(r.dataDir, "app.json"))
	if err != nil {
		return "app-key", "app-secret"
	}
	var a struct{ Key, Secret string }
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("app.json: %v", err)
	}
	return a.Key, a.Secret
}

// waitReady waits until a background snippet is ready (its ready option),
// failing if it exits first.
func (r *snippetRun) waitReady(t *testing.T, b *bgSnippet) {
	ready := b.s.opts["ready"]
	if ready == "" {
		return
	}
	check := func() bool {
		resp, err := http.Get(ready)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	if ch, ok := strings.CutPrefix(ready, "occupied:"); ok {
		key, secret := r.generatedApp(t)
		check = func() bool {
			s := &server{APIAddr: "127.0.0.1:3232"}
			status, body := apiCallQuiet(s, key, secret, http.MethodGet, "/apps/1/channels/"+url.PathEscape(ch), url.Values{"info": {"subscription_count"}})
			return status == http.StatusOK && strings.Contains(body, `"occupied":true`)
		}
	}
	deadline := time.Now().Add(180 * time.Second)
	for !check() {
		select {
		case <-b.done:
			t.Fatalf("%s:%d: exited before it was ready (%s):\n%s", b.s.file, b.s.line, ready, b.out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s:%d: not ready (%s) within 180 s:\n%s", b.s.file, b.s.line, ready, b.out.String())
		}
	}
}

// stop ends a background snippet and its children (SIGTERM, then SIGKILL).
func (b *bgSnippet) stop() {
	_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		<-b.done
	}
}

// apiCallQuiet is apiCall without a test to fail: a poll's try.
func apiCallQuiet(s *server, key, secret, method, path string, params url.Values) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	q := protocol.SignRequest(key, secret, method, path, params, nil, time.Now())
	req, err := http.NewRequestWithContext(ctx, method, s.APIURL()+path+"?"+q.Encode(), nil)
	if err != nil {
		return 0, err.Error()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
