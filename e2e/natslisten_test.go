package e2e

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestNATSListenerNeedsCredentials is issue 13 #1: --nats-listen opened the
// embedded NATS to anyone who could reach the port (read a private
// channel's events, forge events, delete streams). A raw NATS client without
// credentials is now refused; the URL pushd printed lets a second gateway
// in, and events cross between the two.
func TestNATSListenerNeedsCredentials(t *testing.T) {
	t.Parallel() // mostly waits (timeouts, delays, a peer dying): runs beside the others
	natsAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	a := startPushd(t, "", "--nats-listen", natsAddr)

	for _, o := range [][]nats.Option{nil, {nats.UserInfo("pushd", "guess")}, {nats.Token("guess")}} {
		nc, err := nats.Connect("nats://"+natsAddr, append(o, nats.Timeout(5*time.Second), nats.MaxReconnects(0))...)
		if err == nil {
			_, serr := nc.Request("$JS.API.STREAM.NAMES", nil, 2*time.Second)
			nc.Close()
			t.Fatalf("raw client connected to the listener (stream names: %v), want it refused", serr)
		}
		if !strings.Contains(strings.ToLower(err.Error()), "authorization") {
			t.Fatalf("raw client: %v, want an authorization error", err)
		}
	}

	url := a.natsListenURL(t)
	nc, err := nats.Connect(url, nats.Timeout(5*time.Second), nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("client with the printed URL: %v", err)
	}
	nc.Close()

	b := startNode(t, a)
	c, _ := connect(t, b, "app-key")
	c.send(`{"event":"pusher:subscribe","data":{"channel":"across"}}`)
	c.expect("pusher_internal:subscription_succeeded")
	trigger(t, a, "app-key", "app-secret", "/apps/1/events", `{"name":"via-a","channel":"across","data":"1"}`)
	if f := c.nextWithin(10 * time.Second); f.Event != "via-a" {
		t.Fatalf("node b got %s, want via-a from node a", f.raw)
	}

	// The password is printed on the first start only; a restart keeps it.
	a.restart(t)
	if logs := a.log.String(); strings.Count(logs, url) != 1 {
		t.Fatalf("the listener URL with its password printed %d times over two starts, want once:\n%s", strings.Count(logs, url), logs)
	}
	waitFor(t, "node b ready again after node a's restart", func() bool { return readyStatus(t, b) == http.StatusOK })
}
