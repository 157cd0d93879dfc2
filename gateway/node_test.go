package gateway

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/internal/gws"
	"github.com/pushd/pushd/presence"
)

// A real node for tests: a NATS server with JetStream, and per node a bus
// connection, a presence tracker and a gateway serving WebSockets, wired as
// cmd/pushd wires them. Peers are WebSocket clients speaking protocol 7.

// startTestNATS runs an in-process nats-server with JetStream on a random
// port until the test ends; several nodes share it as a cluster would.
func startTestNATS(t *testing.T) string {
	t.Helper()
	o := &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true}
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	go s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready within 10s")
	}
	return s.ClientURL()
}

// testNode is one gateway of a test cluster.
type testNode struct {
	g    *Gateway
	b    *bus.Bus
	addr string // WebSocket host:port
}

// startTestNode starts a gateway for apps on the NATS at url.
func startTestNode(t *testing.T, url string, apps []config.App) *testNode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	var g *Gateway
	b, err := bus.Open(ctx, bus.Options{URL: url, Name: "gateway-test", Logger: log}, func(d bus.Delivery) { g.Deliver(d) })
	if err != nil {
		t.Fatalf("open bus: %v", err)
	}
	t.Cleanup(b.Close)
	for _, a := range apps {
		if err := b.EnsureApp(ctx, bus.AppStream{Key: a.Key}); err != nil {
			t.Fatalf("app stream: %v", err)
		}
	}
	node := NewNodeID()
	tr, err := presence.New(ctx, b.JetStream(), presence.Options{Node: node, Logger: log})
	if err != nil {
		t.Fatalf("presence: %v", err)
	}
	cfg := config.Config{Apps: apps}
	cfg.Defaults()
	runCtx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	g, err = New(runCtx, cfg, Deps{Node: node, Broker: b, Presence: tr, Logger: log})
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	go tr.Run(runCtx, g.Listener())
	select {
	case <-tr.Ready():
	case <-ctx.Done():
		t.Fatal("presence tracker not ready within 20s")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go g.ServeWebSocket(ln)
	return &testNode{g: g, b: b, addr: ln.Addr().String()}
}

// peerFrame is one frame a peer received.
type peerFrame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
	raw     string
}

// peer is a WebSocket client that records every frame it receives.
type peer struct {
	t        *testing.T
	conn     *gws.Conn
	key      string
	socketID string

	mu     sync.Mutex
	frames []peerFrame
}

type peerHandler struct {
	gws.BuiltinEventHandler
	p *peer
}

func (h peerHandler) OnMessage(_ *gws.Conn, m *gws.Message) {
	defer m.Close()
	f := peerFrame{raw: string(m.Bytes())}
	if json.Unmarshal(m.Bytes(), &f) != nil {
		f.Event = "invalid-json"
	}
	h.p.mu.Lock()
	h.p.frames = append(h.p.frames, f)
	h.p.mu.Unlock()
}

// dialPeer connects to an app on a node and waits for its socket id.
func dialPeer(t *testing.T, n *testNode, key string) *peer {
	t.Helper()
	return dialPeerWith(t, n, key, nil)
}

// dialPeerWith is dialPeer with request headers for the handshake.
func dialPeerWith(t *testing.T, n *testNode, key string, header http.Header) *peer {
	t.Helper()
	p := &peer{t: t, key: key}
	conn, _, err := gws.NewClient(peerHandler{p: p}, &gws.ClientOption{
		Addr: "ws://" + n.addr + "/app/" + key + "?protocol=7", HandshakeTimeout: 5 * time.Second, RequestHeader: header})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	p.conn = conn
	go conn.ReadLoop()
	t.Cleanup(func() { conn.WriteClose(1000, nil) })
	f := p.waitFrame("connection_established", func(f peerFrame) bool { return f.Event == "pusher:connection_established" })
	var d struct {
		SocketID string `json:"socket_id"`
	}
	if err := protocol.DecodeData(f.Data, &d); err != nil || d.SocketID == "" {
		t.Fatalf("connection_established %s: %v", f.raw, err)
	}
	p.socketID = d.SocketID
	return p
}

// snapshot returns the frames received so far.
func (p *peer) snapshot() []peerFrame {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]peerFrame(nil), p.frames...)
}

// waitFrame returns the first frame that matches, failing after 10 s.
func (p *peer) waitFrame(what string, match func(peerFrame) bool) peerFrame {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, f := range p.snapshot() {
			if match(f) {
				return f
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("peer %s: no %s within 10s; frames: %v", p.socketID, what, p.raws())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *peer) raws() []string {
	var out []string
	for _, f := range p.snapshot() {
		out = append(out, f.raw)
	}
	return out
}

func (p *peer) send(frame string) {
	p.t.Helper()
	if err := p.conn.WriteString(frame); err != nil {
		p.t.Fatalf("send: %v", err)
	}
}

// subscribe subscribes to ch (signing private and presence channels with
// secret) and waits for subscription_succeeded.
func (p *peer) subscribe(ch, secret string) {
	p.t.Helper()
	data := map[string]string{"channel": ch}
	if kind := protocol.KindOf(ch); kind.NeedsAuth() {
		if kind == protocol.Presence {
			data["channel_data"] = `{"user_id":"` + p.socketID + `"}`
		}
		data["auth"] = protocol.ChannelAuth(p.key, secret, p.socketID, ch, data["channel_data"])
	}
	b, _ := json.Marshal(map[string]any{"event": "pusher:subscribe", "data": data})
	p.send(string(b))
	p.waitFrame("subscription_succeeded on "+ch, func(f peerFrame) bool {
		if f.Channel == ch && strings.HasPrefix(f.Event, "pusher:subscription_error") {
			p.t.Fatalf("subscribe %s: %s", ch, f.raw)
		}
		return f.Channel == ch && f.Event == "pusher_internal:subscription_succeeded"
	})
}
