package gateway

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lxzan/gws"
	"github.com/pushd/pushd/gateway/protocol"
)

// Socket limits of the WebSocket listener.
const (
	maxFrameBytes    = 64 << 10 // larger frames close the socket with 1009
	handshakeTimeout = 10 * time.Second
	readBufferSize   = 512
)

var pingFrame = protocol.PingFrame

// session carries what the handshake decided into the socket's handlers.
// It implements gws.SessionStorage with one slot instead of a map.
type session struct {
	c   *client
	app *app
	// resumable: the client is one of Pushd's own (client=pushd-…), which
	// use the stream positions of the resume extension.
	resumable bool
	code      int // non-zero: refuse the connection with this code
	msg       string
}

func (s *session) Len() int                     { return 0 }
func (s *session) Load(string) (any, bool)      { return nil, false }
func (s *session) Delete(string)                {}
func (s *session) Store(string, any)            {}
func (s *session) Range(func(string, any) bool) {}

// ServeWebSocket accepts connections on l until it is closed. Requests
// that are not WebSocket upgrades get the static files (or a 404).
func (g *Gateway) ServeWebSocket(l net.Listener) error {
	other := http.HandlerFunc(g.serveStatic)
	srv := gws.NewServer(wsHandler{g}, &gws.ServerOption{
		ParallelEnabled:    true, // frames run off the read goroutine, one at a time
		ParallelGolimit:    1,
		ReadBufferSize:     readBufferSize,
		ReadMaxPayloadSize: maxFrameBytes,
		CheckUtf8Enabled:   true,
		HandshakeTimeout:   handshakeTimeout,
		NewSession:         func() gws.SessionStorage { return &session{} },
		Authorize:          g.authorize,
		Logger:             gwsLogger{g.log},
		Recovery:           gws.Recovery, // a panic in a frame handler fails one socket, not the process
	})
	upgrader := srv.GetUpgrader()
	for {
		conn, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return fmt.Errorf("accept websocket: %w", err)
		}
		go g.serveConn(conn, upgrader, other)
	}
}

// serveConn reads the HTTP request of a new connection (within the
// handshake timeout, against slowloris) and upgrades it.
func (g *Gateway) serveConn(conn net.Conn, upgrader *gws.Upgrader, other http.Handler) {
	_ = conn.SetReadDeadline(time.Now().Add(handshakeTimeout))
	br := bufio.NewReaderSize(conn, readBufferSize)
	r, err := http.ReadRequest(br)
	if err != nil {
		_ = conn.Close()
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		serveHTTPOnConn(conn, br, r, other)
		return
	}
	socket, err := upgrader.UpgradeFromConn(conn, br, r)
	if err != nil {
		g.log.Debug("websocket handshake failed", slog.Any("err", err))
		return
	}
	// A fresh goroutine keeps the read loop's stack at its minimum (2 KB:
	// nothing may wrap ReadLoop, not even a deferred recover, or the stack
	// of every idle socket doubles; third_party/gws/README.md).
	go socket.ReadLoop()
}

// authorize runs during the upgrade: it checks the path, app and protocol
// and records the verdict; the socket is always upgraded so that pusher-js
// sees the close code.
func (g *Gateway) authorize(r *http.Request, ss gws.SessionStorage) bool {
	s := ss.(*session)
	key, ok := strings.CutPrefix(r.URL.Path, "/app/")
	if !ok || key == "" || strings.Contains(key, "/") {
		s.code, s.msg = protocol.CodePathNotFound, "path not found: use /app/{app_key}"
		return true
	}
	a := g.app(key)
	switch {
	case a == nil:
		s.code, s.msg = protocol.CodeAppNotFound, "application does not exist"
		return true
	case a.Disabled:
		s.code, s.msg = protocol.CodeAppDisabled, "application is disabled"
		return true
	case !originAllowed(a.AllowedOrigins, r.Header.Get("Origin")):
		s.code, s.msg = protocol.CodeUnauthorized, "origin not allowed"
		return true
	case g.drain.Load():
		s.code, s.msg = protocol.CodeReconnect, "server shutting down, reconnect"
		return true
	}
	if p := r.URL.Query().Get("protocol"); p != "" {
		v, err := strconv.Atoi(p)
		switch {
		case err != nil:
			s.code, s.msg = protocol.CodeInvalidVersion, "invalid protocol version"
			return true
		case v < 5 || v > 7:
			s.code, s.msg = protocol.CodeUnsupportedProtocol, "unsupported protocol version "+p
			return true
		}
	}
	s.app = a
	s.resumable = strings.HasPrefix(r.URL.Query().Get("client"), "pushd")
	return true
}

type wsHandler struct{ g *Gateway }

func (h wsHandler) OnOpen(ws *gws.Conn) {
	g := h.g
	s := ws.Session().(*session)
	_ = ws.SetReadDeadline(time.Time{})
	if s.code != 0 {
		refuse(ws, s.code, s.msg)
		return
	}
	a := s.app
	if !g.admit(a) {
		a.rt.m.Reject("connection_quota")
		refuse(ws, protocol.CodeOverQuota, "application is over its connection quota")
		return
	}
	a.rt.m.Connections.Inc()
	a.rt.m.ConnectionsOpened.Inc()
	c := &client{gw: g, ws: ws, socketID: g.newSocketID(), opened: time.Now().UnixNano(), resumable: s.resumable}
	c.appPtr.Store(a)
	c.lastSeen.Store(c.opened)
	s.c = c
	g.clients.add(c)
	c.send(protocol.ConnectionEstablished(c.socketID, a.ActivityTimeout))
}

func refuse(ws *gws.Conn, code int, msg string) {
	_ = ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	_ = ws.WriteMessage(gws.OpcodeText, protocol.ErrorFrame(code, msg))
	_ = ws.WriteClose(uint16(code), []byte(msg))
}

func (h wsHandler) OnClose(ws *gws.Conn, err error) {
	c := ws.Session().(*session).c
	if c == nil {
		return
	}
	c.closed.Store(true)
	c.rp.stop()
	c.out.shut()
	h.g.clients.remove(c)
	h.g.release(c.app())
	c.app().rt.m.Connections.Dec()
	c.mu.Lock()
	subs := c.subs
	c.subs = nil
	c.mu.Unlock()
	for ch, sub := range subs {
		h.g.drop(c, ch, sub)
	}
	h.g.offline(c)
}

func (h wsHandler) OnPing(ws *gws.Conn, payload []byte) {
	if c := ws.Session().(*session).c; c != nil {
		c.seen()
	}
	_ = ws.WritePong(payload)
}

func (h wsHandler) OnPong(ws *gws.Conn, _ []byte) {
	if c := ws.Session().(*session).c; c != nil {
		c.seen()
	}
}

func (h wsHandler) OnMessage(ws *gws.Conn, m *gws.Message) {
	defer m.Close()
	c := ws.Session().(*session).c
	if c == nil || c.closed.Load() {
		return
	}
	c.seen()
	c.app().rt.m.BytesIn.Add(float64(m.Data.Len()))
	if m.Opcode != gws.OpcodeText {
		c.errorFrame(protocol.CodeInvalidMessage, "binary frames are not supported")
		return
	}
	h.g.handleFrame(c, m.Bytes())
}

// seen records activity from the client.
func (c *client) seen() {
	c.lastSeen.Store(time.Now().UnixNano())
	c.pingSent.Store(0)
}

// gwsLogger routes gws's own errors to slog.
type gwsLogger struct{ l *slog.Logger }

func (l gwsLogger) Error(v ...any) { l.l.Warn("gws", slog.Any("msg", v)) }

// originAllowed checks a WebSocket Origin against an app's list.
func originAllowed(allowed []string, origin string) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, o := range allowed {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}
