package gateway

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unique"

	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/internal/gws"
)

// maxHeadBytes caps the HTTP request head (request line, headers, blank
// line) read on the WebSocket port. A pusher-js upgrade is under 1 KiB;
// what can make it larger is the browser's cookies for the host. 64 KiB is
// what the largest common front proxies let through (Envoy 60 KiB, AWS ALB
// 64 KiB in all, nginx 4 × 8 KiB and Node.js 16 KiB by default), so anything
// that reached Pushd through one fits, while every socket in its handshake
// (up to max_connections of them) costs little (net/http's 1 MiB default is
// meant for a port that serves any request, not one upgrade).
const maxHeadBytes = 64 << 10

// maxHeadLines caps the header lines of the request head (Apache's
// LimitRequestFields default; a browser sends about 15). Within 64 KiB,
// thousands of tiny fields cost the parser 1.7 MB and 4 ms; 100 lines of
// any size cost at most what one 64 KiB line does (350 KB).
const maxHeadLines = 100

// errHeadTooLarge is a request head over maxHeadBytes or maxHeadLines.
var errHeadTooLarge = errors.New("request head over 64 KiB or 100 header lines")

// headTooLarge is the answer to a request head over the cap, net/http's.
const headTooLarge = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n" +
	"Connection: close\r\nContent-Length: 35\r\n\r\n431 Request Header Fields Too Large"

// rstAvoidance is how long a refused connection stays open after its
// answer, unread: closing a socket with unread input resets it at once, and
// a client still writing its head could lose the answer (net/http waits as
// long).
const rstAvoidance = 500 * time.Millisecond

// readHead reads the HTTP request of a new connection, at most maxHeadBytes
// and maxHeadLines header lines of it; from then on c reads without a cap (the body, the
// WebSocket frames).
func readHead(c *wsConn, br *bufio.Reader) (*http.Request, error) {
	r, err := http.ReadRequest(br)
	if err != nil {
		// The parser reports the cut as a malformed line, not as the
		// reader's error: a head that used up the cap without being whole
		// is too large.
		if c.headLeft == 0 || errors.Is(err, errHeadTooLarge) {
			return nil, errHeadTooLarge
		}
		return nil, fmt.Errorf("read request head: %w", err)
	}
	// What br holds past the head came with its last read, uncounted.
	rest, _ := br.Peek(br.Buffered())
	if int(c.headLines)-bytes.Count(rest, newline) > maxHeadLines+2 {
		return nil, errHeadTooLarge
	}
	c.headLeft = -1
	return r, nil
}

// refuseHead answers 431 to a head over the cap and closes the connection
// without reading more of it.
func refuseHead(c *wsConn) {
	if _, err := io.WriteString(c, headTooLarge); err != nil {
		_ = c.Close()
		return
	}
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	time.AfterFunc(rstAvoidance, func() { _ = c.Close() })
}

// authorize runs during the upgrade: it checks the path, app, protocol and
// the server's socket count and records the verdict; the socket is always
// upgraded so that pusher-js sees the close code.
func (g *Gateway) authorize(r *http.Request, ss gws.SessionStorage) bool {
	s := ss.(*session)
	key, ok := strings.CutPrefix(r.URL.Path, "/app/")
	defer func() {
		if s.code != 0 {
			g.logs.handshakeRefused(r, key, int(s.code), s.msg)
		}
	}()
	if !ok || key == "" || strings.Contains(key, "/") {
		s.code, s.msg = protocol.CodePathNotFound, "path not found: connect to /app/{app_key}; give new Push({url}) the server's address without a path"
		return true
	}
	a := g.app(key)
	switch {
	case a == nil:
		s.code, s.msg = protocol.CodeAppNotFound, "application does not exist: check that new Push({app_key}) matches an app's key in the server's config (apps[].key)"
		return true
	case a.Disabled:
		s.code, s.msg = protocol.CodeAppDisabled, msgAppDisabled
		return true
	case !originAllowed(a.AllowedOrigins, r.Header.Get("Origin")):
		s.code, s.msg = protocol.CodeUnauthorized, "origin not allowed: add this page's origin to the app's allowed_origins in the server's config"
		return true
	case g.drain.Load():
		s.code, s.msg = protocol.CodeReconnect, msgShuttingDown
		return true
	case g.sockets.Load() > int64(g.maxSockets):
		a.Metrics.Reject("server_connections")
		g.warnSocketLimit()
		s.code, s.msg = protocol.CodeOverQuota, "server is over its connection limit (max_connections): try again later, or raise max_connections and the open-file limit"
		return true
	}
	if p := r.URL.Query().Get("protocol"); p != "" {
		v, err := strconv.Atoi(p)
		switch {
		case err != nil:
			s.code, s.msg = protocol.CodeInvalidVersion, "invalid protocol version: the protocol query parameter must be a number; use ?protocol=7"
			return true
		case v < 5 || v > 7:
			s.code, s.msg = protocol.CodeUnsupportedProtocol, "unsupported protocol version "+itoa(v)+": use protocol 7 (pusher-js 7 or later, push.js)"
			return true
		}
	}
	s.app = a
	s.resumable = strings.HasPrefix(r.URL.Query().Get("client"), "pushd")
	s.ua = unique.Make(truncate(r.Header.Get("User-Agent"), maxUserAgent))
	return true
}

// maxUserAgent is the most of a User-Agent a socket keeps for the console
// (a browser's is 100–150 bytes).
const maxUserAgent = 256

// warnSocketLimit logs, at most once a minute, that connections are
// refused for the server-wide max_connections.
func (g *Gateway) warnSocketLimit() {
	now := time.Now().UnixNano()
	last := g.socketWarned.Load()
	if now-last < int64(time.Minute) || !g.socketWarned.CompareAndSwap(last, now) {
		return
	}
	g.log.Warn("websocket connections refused: the server is at max_connections",
		slog.Int("max_connections", g.maxSockets), slog.Int64("sockets", g.sockets.Load()))
}

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
