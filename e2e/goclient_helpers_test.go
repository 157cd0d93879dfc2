package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pushd/pushd/wasmclient"
)

// goClient is the native Go client (wasmclient on gws) connected to s, with
// fast back-off and its states recorded.
type goClient struct {
	*wasmclient.Client
	t      *testing.T
	states chan wasmclient.State
	errs   chan error
	tr     *gateTransport
}

// newGoClient starts a client of app key/secret; mod adjusts the options.
// It does not wait for the connection.
func newGoClient(t *testing.T, s *server, key, secret string, mod func(*wasmclient.Options)) *goClient {
	t.Helper()
	c := &goClient{t: t, states: make(chan wasmclient.State, 256), errs: make(chan error, 256),
		tr: &gateTransport{inner: wasmclient.GWSTransport{}}}
	auth := wasmclient.SecretAuthorizer{Key: key, Secret: secret, EncryptionMasterKey: masterKey}
	opts := wasmclient.Options{
		URL: "ws://" + s.WSAddr, Key: key, Authorizer: auth, UserAuthenticator: auth,
		Transport:  c.tr,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 400 * time.Millisecond, DialTimeout: 3 * time.Second,
		OnStateChange: func(_, cur wasmclient.State) {
			select {
			case c.states <- cur:
			default:
			}
		},
		OnError: func(err error) {
			select {
			case c.errs <- err:
			default:
			}
		},
	}
	if mod != nil {
		mod(&opts)
	}
	c.Client = wasmclient.New(opts)
	c.Connect()
	t.Cleanup(c.Disconnect)
	return c
}

// connectedGoClient is newGoClient that waits for the connected state.
func connectedGoClient(t *testing.T, s *server, key, secret string, mod func(*wasmclient.Options)) *goClient {
	t.Helper()
	c := newGoClient(t, s, key, secret, mod)
	c.waitState(wasmclient.StateConnected, 10*time.Second)
	return c
}

var masterKey = []byte("0123456789abcdef0123456789abcdef")

// waitState reads state changes until want comes.
func (c *goClient) waitState(want wasmclient.State, within time.Duration) {
	c.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case st := <-c.states:
			if st == want {
				return
			}
		case <-deadline:
			c.t.Fatalf("state: got %s, want %s within %s", c.State(), want, within)
		}
	}
}

// subscribe subscribes and waits until the server confirmed.
func (c *goClient) subscribe(name string) *wasmclient.Channel {
	c.t.Helper()
	ch := c.Subscribe(name)
	waitFor(c.t, "subscription to "+name, ch.Subscribed)
	return ch
}

// record returns a channel that receives the events bind delivers.
func record(bind func(string, wasmclient.Handler) wasmclient.Binding, event string) chan wasmclient.Event {
	out := make(chan wasmclient.Event, 4096)
	bind(event, func(e wasmclient.Event) { out <- e })
	return out
}

func nextEvent(t *testing.T, c chan wasmclient.Event, what string) wasmclient.Event {
	t.Helper()
	select {
	case e := <-c:
		return e
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s within 5s", what)
	}
	return wasmclient.Event{}
}

func noEvent(t *testing.T, c chan wasmclient.Event, d time.Duration) {
	t.Helper()
	select {
	case e := <-c:
		t.Fatalf("got %+v, want no event", e)
	case <-time.After(d):
	}
}

// gateTransport wraps a Transport so a test can cut the network: close the
// connections, hold new dials until opened, or drop incoming frames.
type gateTransport struct {
	inner wasmclient.Transport
	mu    sync.Mutex
	dials int
	gate  chan struct{} // nil: dials pass
	conns []wasmclient.Conn
	deaf  bool
}

func (g *gateTransport) Dial(ctx context.Context, url string, onMessage func([]byte), onClose func(int, string)) (wasmclient.Conn, error) {
	g.mu.Lock()
	g.dials++
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	conn, err := g.inner.Dial(ctx, url, func(b []byte) {
		g.mu.Lock()
		deaf := g.deaf
		g.mu.Unlock()
		if !deaf {
			onMessage(b)
		}
	}, onClose)
	if err == nil {
		g.mu.Lock()
		g.conns = append(g.conns, conn)
		g.mu.Unlock()
	}
	return conn, err
}

// cut closes every connection and holds new dials until reopen.
func (g *gateTransport) cut() {
	g.mu.Lock()
	g.gate = make(chan struct{})
	conns := g.conns
	g.conns = nil
	g.mu.Unlock()
	for _, c := range conns {
		c.Close(1001, "cut")
	}
}

func (g *gateTransport) reopen() {
	g.mu.Lock()
	if g.gate != nil {
		close(g.gate)
		g.gate = nil
	}
	g.mu.Unlock()
}

func (g *gateTransport) setDeaf(v bool) {
	g.mu.Lock()
	g.deaf = v
	g.mu.Unlock()
}

func (g *gateTransport) dialCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.dials
}
