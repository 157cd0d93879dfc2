package e2e

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"
)

func readyStatus(t *testing.T, s *server) int {
	t.Helper()
	resp, err := http.Get(s.APIURL() + "/readyz")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

// TestNATSLossAndReturn cuts a gateway's NATS (the other node, which embeds
// it, goes down): the gateway keeps its WebSocket clients, answers the API
// with a quick 503 and readyz 503, and recovers by itself when NATS returns.
func TestNATSLossAndReturn(t *testing.T) {
	t.Parallel() // mostly waits (timeouts, delays, a peer dying): runs beside the others
	natsAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	a := startPushd(t, "", "--nats-listen", natsAddr)
	b := startNode(t, a)
	c, _ := connect(t, b, "app-key")
	c.send(`{"event":"pusher:subscribe","data":{"channel":"survive"}}`)
	c.expect("pusher_internal:subscription_succeeded")

	a.stop(t)
	waitFor(t, "readyz 503 on the gateway without NATS", func() bool { return readyStatus(t, b) == http.StatusServiceUnavailable })
	start := time.Now()
	status, body := apiCall(t, b, "app-key", "app-secret", http.MethodPost, "/apps/1/events", nil, `{"name":"lost","channel":"survive","data":"x"}`)
	var e struct{ Error string }
	if status != http.StatusServiceUnavailable || json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
		t.Fatalf("trigger without NATS: %d %s, want 503 with a JSON error", status, body)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("503 took %s, want a quick answer", d)
	}
	// The client is still connected.
	c.send(`{"event":"pusher:ping","data":{}}`)
	c.expect("pusher:pong")
	// A new subscription cannot be made: the client is told so with a 503
	// subscription_error (pusher-js reports it; the socket stays open).
	c.send(`{"event":"pusher:subscribe","data":{"channel":"while-down"}}`)
	f := c.nextWithin(15 * time.Second)
	var se struct {
		Type   string `json:"type"`
		Status int    `json:"status"`
	}
	if f.Event != "pusher:subscription_error" || json.Unmarshal([]byte(f.dataString(t)), &se) != nil || se.Status != http.StatusServiceUnavailable {
		t.Fatalf("subscribe without NATS: got %s, want pusher:subscription_error with status 503", f.raw)
	}
	c.send(`{"event":"pusher:ping","data":{}}`)
	c.expect("pusher:pong")

	a.restart(t)
	waitFor(t, "readyz 200 after NATS returned", func() bool { return readyStatus(t, b) == http.StatusOK })
	// Interest is re-established: an event through either node arrives.
	waitFor(t, "an event through node b after the reconnect", func() bool {
		status, _ := apiCall(t, b, "app-key", "app-secret", http.MethodPost, "/apps/1/events", nil, `{"name":"back","channel":"survive","data":"1"}`)
		return status == http.StatusOK
	})
	if f := c.nextWithin(10 * time.Second); f.Event != "back" {
		t.Fatalf("after the reconnect got %s, want event back", f.raw)
	}
	trigger(t, a, "app-key", "app-secret", "/apps/1/events", `{"name":"via-a","channel":"survive","data":"2"}`)
	for {
		f := c.nextWithin(10 * time.Second)
		if f.Event == "via-a" {
			break
		}
		if f.Event != "back" {
			t.Fatalf("got %s, want via-a", f.raw)
		}
	}
}
