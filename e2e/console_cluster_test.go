package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// consoleGet calls a console endpoint of s with the console password.
func consoleGet(t *testing.T, s *server, path string, v any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.APIURL()+path, nil)
	req.SetBasicAuth("", "letmein")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %d, not JSON: %v", path, resp.StatusCode, err)
		}
	}
	return resp.StatusCode
}

// TestConsoleCluster: the console of one gateway shows the cluster. Its
// graphs add up both gateways' connections and name both nodes; its
// disconnect closes a socket held by the other gateway (a control
// message); its stream shows a connect on the other gateway.
func TestConsoleCluster(t *testing.T) {
	t.Parallel() // mostly waits for the figures of whole seconds
	natsAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	a := startPushd(t, "console_password: letmein\n", "--nats-listen", natsAddr, "--node-name", "alpha")
	b := startPushd(t, "", "--nats-url", a.natsListenURL(t), "--node-name", "beta")
	for range 3 {
		connect(t, a, "app-key")
	}
	onB, onBID := connect(t, b, "app-key")
	connect(t, b, "app-key")

	// The graphs: 5 connections, from alpha and beta.
	var series struct {
		Connections []*float64 `json:"connections"`
		Nodes       []struct{ Name string }
	}
	waitFor(t, "the graphs of alpha to show 5 connections from alpha and beta", func() bool {
		if consoleGet(t, a, "/console/api/series?app=app-key", &series) != http.StatusOK || len(series.Connections) == 0 {
			return false
		}
		last := series.Connections[len(series.Connections)-1]
		return last != nil && *last == 5 && len(series.Nodes) == 2 && series.Nodes[0].Name == "alpha" && series.Nodes[1].Name == "beta"
	})

	// The stream of alpha's console shows a connect on beta.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.APIURL()+"/console/api/events?app=app-key", nil)
	req.SetBasicAuth("", "letmein")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	entries := make(chan map[string]any, 64)
	go func() {
		defer close(entries)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var e map[string]any
			if rest, ok := strings.CutPrefix(sc.Text(), "data: "); ok && json.Unmarshal([]byte(rest), &e) == nil {
				entries <- e
			}
		}
	}()
	next := func(match func(map[string]any) bool) map[string]any {
		t.Helper()
		for {
			select {
			case e, ok := <-entries:
				if !ok {
					t.Fatal("the stream ended")
				}
				if match(e) {
					return e
				}
			case <-ctx.Done():
				t.Fatal("no such entry in the stream within 20s")
			}
		}
	}
	next(func(e map[string]any) bool { return e["type"] == "watching" })
	// The watch reaches beta a moment after the stream opened: connect
	// until one connect shows (each within the deadline of next).
	waitFor(t, "beta to send its connects to alpha's stream", func() bool {
		_, lateID := connect(t, b, "app-key")
		deadline := time.After(500 * time.Millisecond)
		for {
			select {
			case e := <-entries:
				if e["type"] == "connected" && e["socket_id"] == lateID {
					if e["node"] != "beta" {
						t.Fatalf("connect entry %v: want node beta", e)
					}
					return true
				}
			case <-deadline:
				return false
			}
		}
	})

	// Disconnect from alpha's console a socket held by beta: 202, and beta
	// closes it with 4009.
	body := strings.NewReader(`{"socket_id":"` + onBID + `"}`)
	dreq, _ := http.NewRequest(http.MethodPost, a.APIURL()+"/console/api/disconnect?app=app-key", body)
	dreq.SetBasicAuth("", "letmein")
	dreq.Header.Set("Content-Type", "application/json")
	dresp, err := http.DefaultClient.Do(dreq)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(dresp.Body)
	dresp.Body.Close()
	if dresp.StatusCode != http.StatusAccepted {
		t.Fatalf("disconnect of a socket on beta from alpha: %d %s, want 202", dresp.StatusCode, raw)
	}
	if f := onB.next(); f.Event != "pusher:error" || errorCode(t, f) != 4009 {
		t.Fatalf("the socket on beta got %s, want pusher:error 4009", f.raw)
	}
	e := next(func(e map[string]any) bool { return e["type"] == "disconnected" && e["socket_id"] == onBID })
	if e["node"] != "beta" || e["code"] != float64(4009) {
		t.Fatalf("disconnect entry %v: want node beta, code 4009", e)
	}
}

// TestConsoleAppLogin: with console_with_secret, an app's key and secret
// log in to that app only, and its graphs leave out the server's figures
// (other apps' API traffic and webhooks); a wrong secret is refused.
func TestConsoleAppLogin(t *testing.T) {
	s := startPushd(t, "console_with_secret: true\n")
	call := func(user, pass, path string, v any) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.APIURL()+path, nil)
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if v != nil && resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode
	}
	var apps struct {
		Apps     []string
		Operator bool
	}
	if st := call("app-key", "app-secret", "/console/api/apps", &apps); st != http.StatusOK || len(apps.Apps) != 1 || apps.Apps[0] != "app-key" || apps.Operator {
		t.Fatalf("app login: %d %+v, want app-key only, not an operator", st, apps)
	}
	if st := call("app-key", "wrong", "/console/api/apps", nil); st != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d, want 401", st)
	}
	if st := call("app-key", "app-secret", "/console/api/stats?app=noid-key", nil); st != http.StatusNotFound {
		t.Fatalf("another app's figures: %d, want 404", st)
	}
	var series map[string]json.RawMessage
	if st := call("app-key", "app-secret", "/console/api/series?app=app-key", &series); st != http.StatusOK || series["connections"] == nil {
		t.Fatalf("the app's graphs: %d %v", st, series)
	}
	for _, k := range []string{"api_requests", "api_errors", "webhook_queue", "webhooks_sent", "webhook_failures"} {
		if series[k] != nil {
			t.Errorf("an app's login sees the server's %s", k)
		}
	}
	// The nodes are named, without their connections of every app (the
	// node reports within the first seconds).
	waitFor(t, "the node in the app's graphs", func() bool {
		var s struct {
			Nodes []map[string]any
		}
		call("app-key", "app-secret", "/console/api/series?app=app-key", &s)
		if len(s.Nodes) == 1 {
			if _, shown := s.Nodes[0]["connections"]; shown {
				t.Fatalf("an app's login sees the node's connections: %v", s.Nodes[0])
			}
			return true
		}
		return false
	})
}
