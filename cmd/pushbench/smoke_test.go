package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The smoke test builds pushd, the raw ceiling server and pushbench, and
// runs a tiny load of every mode: each must deliver everything exactly once
// and in order. It checks that the tool works, not how fast anything is.

func buildAll(t *testing.T) (pushd, raw, bench string) {
	t.Helper()
	dir := t.TempDir()
	pushd, raw, bench = filepath.Join(dir, "pushd"), filepath.Join(dir, "rawserver"), filepath.Join(dir, "pushbench")
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i, b := range [][2]string{{pushd, "../pushd"}, {raw, "../../bench/rawserver"}, {bench, "."}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := exec.Command("go", "build", "-o", b[0], b[1]).CombinedOutput()
			if err != nil {
				errs[i] = fmt.Errorf("build %s: %v\n%s", b[1], err, out)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return pushd, raw, bench
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServer runs a server binary and waits for its /readyz.
func startServer(t *testing.T, bin string, args ...string) (ws, api string, pid int) {
	t.Helper()
	ws, api = freePort(t), freePort(t)
	var log bytes.Buffer
	cmd := exec.Command(bin, append([]string{"--ws-addr", ws, "--api-addr", api}, args...)...)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("%s log:\n%s", filepath.Base(bin), log.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + api + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return "ws://" + ws, "http://" + api, cmd.Process.Pid
			}
		}
		select {
		case <-done:
			t.Fatalf("%s exited before ready", bin)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%s not ready after 20s", bin)
	return
}

func TestSmoke(t *testing.T) {
	pushd, raw, bench := buildAll(t)
	pws, papi, ppid := startServer(t, pushd, "--data-dir", t.TempDir(), "--app-id", "1", "--app-key", "k", "--app-secret", "s", "--log-level", "warn")
	rws, rapi, rpid := startServer(t, raw)

	common := []string{"--key", "k", "--secret", "s", "--app-id", "1", "--duration", "1s", "--drain", "3s"}
	cases := []struct {
		name   string
		args   []string
		target string
	}{
		{"connect", []string{"connect", "--conns", "100", "--channels", "5", "--settle", "0s"}, "pushd"},
		{"fanout", []string{"fanout", "--conns", "50", "--channels", "5", "--rate", "100"}, "pushd"},
		{"fanout batch", []string{"fanout", "--conns", "50", "--channels", "5", "--rate", "100", "--batch", "4"}, "pushd"},
		{"clientevents", []string{"clientevents", "--pairs", "20", "--rate", "40"}, "pushd"},
		{"presence", []string{"presence", "--conns", "40", "--channels", "4", "--rate", "40"}, "pushd"},
		{"raw fanout", []string{"fanout", "--conns", "50", "--channels", "5", "--rate", "100"}, "raw"},
		{"raw clientevents", []string{"clientevents", "--pairs", "20", "--rate", "40"}, "raw"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws, api, pid := pws, papi, ppid
			if c.target == "raw" {
				ws, api, pid = rws, rapi, rpid
			}
			args := append(append(c.args, common...), "--ws", ws, "--api", api, "--pid", strconv.Itoa(pid))
			cfg, err := parseFlags(args, os.Stderr)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := runBench(ctx, cfg, args)
			if err != nil {
				t.Fatal(err)
			}
			checkSummary(t, s)
		})
	}

	// Several worker processes, each from its own source address, merged.
	t.Run("workers", func(t *testing.T) {
		out, err := exec.Command(bench, "fanout", "--conns", "60", "--channels", "3", "--rate", "60", "--per-proc", "30",
			"--duration", "1s", "--drain", "3s", "--ws", pws, "--api", papi, "--pid", strconv.Itoa(ppid)).Output()
		if err != nil {
			t.Fatalf("pushbench: %v\n%s", err, out)
		}
		var s Summary
		if err := json.Unmarshal(out, &s); err != nil {
			t.Fatalf("summary %q: %v", out, err)
		}
		if s.Procs != 2 {
			t.Errorf("procs: got %d, want 2", s.Procs)
		}
		checkSummary(t, &s)
	})

	t.Run("refuses non-loopback", func(t *testing.T) {
		_, err := parseFlags([]string{"fanout", "--ws", "ws://192.0.2.1:3131"}, &bytes.Buffer{})
		if !errors.Is(err, errNotLoopback) {
			t.Fatalf("got %v, want errNotLoopback", err)
		}
	})
}

func checkSummary(t *testing.T, s *Summary) {
	t.Helper()
	b, _ := json.Marshal(s)
	t.Logf("%s", b)
	if s.Connect.Ready != int64(s.Conns) || s.Connect.Failed != 0 {
		t.Errorf("ready %d failed %d, want %d ready", s.Connect.Ready, s.Connect.Failed, s.Conns)
	}
	if s.Lost != 0 || s.Dup != 0 || s.OOO != 0 || s.Disconnects != 0 || s.ErrorFrames != 0 || s.APIErrors != 0 {
		t.Errorf("lost %d dup %d ooo %d disconnects %d error frames %d api errors %d, want all 0",
			s.Lost, s.Dup, s.OOO, s.Disconnects, s.ErrorFrames, s.APIErrors)
	}
	switch s.Mode {
	case "fanout", "clientevents":
		if s.Sent == 0 || s.Delivered != s.Expected || s.Latency == nil {
			t.Errorf("sent %d delivered %d of %d, latency %v: want everything delivered", s.Sent, s.Delivered, s.Expected, s.Latency)
		}
	case "presence":
		if s.Joins == 0 || s.Joins != s.Sent || s.Leaves != s.Joins {
			t.Errorf("joins %d of %d sent, leaves %d: want every join confirmed and left", s.Joins, s.Sent, s.Leaves)
		}
	}
	if s.Server == nil || s.Server.RSSAfterKB == 0 {
		t.Errorf("no server RSS in %+v", s.Server)
	}
}
