package gateway

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
	"unique"

	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/internal/gws"
)

// Socket limits of the WebSocket listener.
const (
	maxFrameBytes    = 64 << 10 // larger frames close the socket with 1009
	handshakeTimeout = 10 * time.Second
	readBufferSize   = 256
)

var pingFrame = protocol.PingFrame

// session carries what the handshake decided into the socket's handlers.
// It implements gws.SessionStorage with one slot instead of a map.
type session struct {
	c   *client
	app *app
	msg string
	// ua is the client's User-Agent, interned (unique.Make): sockets of
	// one browser share one copy. It stays with the socket for the
	// console; the fields are ordered to keep the session in 48 bytes.
	ua   unique.Handle[string]
	code int32 // non-zero: refuse the connection with this code
	// resumable: the client is one of Pushd's own (client=pushd-…), which
	// use the stream positions of the resume extension.
	resumable bool
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
	var backoff time.Duration
	for {
		conn, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			if !acceptRetryable(err) {
				return fmt.Errorf("accept websocket: %w", err)
			}
			// Out of files (or a timeout): wait, as net/http does, until
			// sockets close, rather than end the listener.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			g.log.Warn("accept websocket", slog.Any("err", err), slog.Duration("retry_in", backoff))
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		go g.serveConn(newWSConn(conn, &g.sockets), upgrader, other)
	}
}

// acceptRetryable reports an accept error that passes: the process or the
// system is out of files or buffers, or a deadline expired.
func acceptRetryable(err error) bool {
	var ne net.Error
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ENOBUFS) ||
		errors.Is(err, syscall.ENOMEM) || errors.As(err, &ne) && ne.Timeout()
}

// serveConn reads the HTTP request of a new connection (within the
// handshake timeout, against slowloris, and within the head caps) and
// upgrades it.
func (g *Gateway) serveConn(conn *wsConn, upgrader *gws.Upgrader, other http.Handler) {
	_ = conn.SetReadDeadline(time.Now().Add(handshakeTimeout))
	br := bufio.NewReaderSize(conn, readBufferSize)
	r, err := readHead(conn, br)
	if errors.Is(err, errHeadTooLarge) {
		refuseHead(conn)
		return
	}
	if err != nil {
		_ = conn.Close()
		return
	}
	r.RemoteAddr = conn.RemoteAddr().String() // http.ReadRequest leaves it empty
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		serveHTTPOnConn(conn, br, r, other)
		return
	}
	if br.Buffered() == 0 {
		// The common case (a client sends no frame before the 101): the
		// socket's frames are read straight from the TCP connection, one
		// call less deep than through wsConn.Read, which keeps every idle
		// socket's read goroutine within its first 2 KB of stack.
		br.Reset(conn.Conn)
	}
	socket, err := upgrader.UpgradeFromConn(conn, br, r)
	if err != nil {
		g.log.Debug("websocket handshake failed", slog.Any("err", err))
		return
	}
	// A fresh goroutine keeps the read loop's stack at its minimum (2 KB:
	// nothing may wrap ReadLoop, not even a deferred recover, or the stack
	// of every idle socket doubles; internal/gws/README.md).
	go socket.ReadLoop()
}

type wsHandler struct{ g *Gateway }

func (h wsHandler) OnOpen(ws *gws.Conn) {
	g := h.g
	s := ws.Session().(*session)
	_ = ws.SetReadDeadline(time.Time{})
	if s.code != 0 {
		refuse(ws, int(s.code), s.msg)
		return
	}
	a := s.app
	if !g.admit(a) {
		a.Metrics.Reject("connection_quota")
		refuse(ws, protocol.CodeOverQuota, "application is over its connection quota (max_connections "+itoa(a.MaxConnections)+"): raise it in the server's config")
		return
	}
	a.Metrics.Connections.Inc()
	a.Metrics.ConnectionsOpened.Inc()
	c := &client{gw: g, ws: ws, socketID: g.newSocketID(), opened: time.Now().UnixNano(), resumable: s.resumable}
	c.appPtr.Store(a)
	c.lastSeen.Store(c.opened)
	s.c = c
	g.clients.add(c)
	c.send(protocol.ConnectionEstablished(c.socketID, a.ActivityTimeout))
	g.logs.connected(c)
	g.feed.connected(c)
}

func refuse(ws *gws.Conn, code int, msg string) {
	_ = ws.WriteMessage(gws.OpcodeText, protocol.ErrorFrame(code, msg))
	_ = ws.WriteClose(uint16(code), []byte(msg))
}

func (h wsHandler) OnClose(ws *gws.Conn, err error) {
	c := ws.Session().(*session).c
	if c == nil {
		return
	}
	c.closed.Store(true)
	h.g.logs.disconnected(c, err)
	h.g.feed.disconnected(c, err)
	if rp := c.rp.Load(); rp != nil {
		rp.stop()
	}
	c.out.shut()
	h.g.clients.remove(c)
	h.g.release(c.app())
	c.app().Metrics.Connections.Dec()
	h.g.frames.closed(c)
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
	c.app().Metrics.BytesIn.Add(float64(m.Data.Len()))
	if m.Opcode != gws.OpcodeText {
		c.errorFrame(protocol.CodeInvalidMessage, "", "binary frames are not supported: send each message as a JSON text frame")
		return
	}
	h.g.frames.handle(c, m.Bytes())
}

// seen records activity from the client.
func (c *client) seen() {
	c.lastSeen.Store(time.Now().UnixNano())
	c.pingSent.Store(0)
}

// gwsLogger routes gws's own errors to slog.
type gwsLogger struct{ l *slog.Logger }

func (l gwsLogger) Error(v ...any) { l.l.Warn("gws", slog.Any("msg", v)) }
