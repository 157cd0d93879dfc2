package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/internal/gws"
	"github.com/pushd/pushd/internal/loglimit"
)

// sockLog writes the socket door's lines about its connections: the routine
// ones (connected, subscribed, unsubscribed, disconnected) at debug, and
// every refusal (a handshake, a frame, a subscription, a close for a
// protocol error) at info through a loglimit.Limiter keyed by the remote
// address, so that a flood cannot flood the log. Each line names the app,
// the socket, the channel where there is one, the remote address and the
// reason; never a secret or a signature (the reasons sent to clients carry
// neither, see authMismatch).
type sockLog struct {
	ctx context.Context
	log *slog.Logger
	lim *loglimit.Limiter
}

func newSockLog(ctx context.Context, log *slog.Logger) *sockLog {
	return &sockLog{ctx: ctx, log: log, lim: loglimit.New(loglimit.DefaultPerSource, loglimit.DefaultTotal)}
}

// remote is the peer address of c's socket ("" when it has none).
func (c *client) remote() string {
	if c.ws == nil {
		return ""
	}
	if a := c.ws.RemoteAddr(); a != nil {
		return a.String()
	}
	return ""
}

// host is the address without its port: the source of the limiter.
func host(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// debug writes a routine line about c.
func (l *sockLog) debug(c *client, msg string, attrs ...slog.Attr) {
	if l == nil || !l.log.Enabled(l.ctx, slog.LevelDebug) {
		return
	}
	l.log.LogAttrs(l.ctx, slog.LevelDebug, msg, append(clientAttrs(c), attrs...)...)
}

// refused writes a limited refusal line about c.
func (l *sockLog) refused(c *client, msg string, attrs ...slog.Attr) {
	if l == nil {
		return
	}
	l.lim.Log(l.ctx, l.log, slog.LevelInfo, host(c.remote()), msg, append(clientAttrs(c), attrs...)...)
}

func clientAttrs(c *client) []slog.Attr {
	return []slog.Attr{slog.String("app", c.app().Key), slog.String("socket_id", c.socketID), slog.String("remote", c.remote())}
}

// connected logs a new connection.
func (l *sockLog) connected(c *client) { l.debug(c, "connected") }

// subscribed logs a confirmed subscription.
func (l *sockLog) subscribed(c *client, ch string) {
	l.debug(c, "subscribed", slog.String("channel", truncate(ch, 200)))
}

// unsubscribed logs a subscription the client ended.
func (l *sockLog) unsubscribed(c *client, ch string) {
	l.debug(c, "unsubscribed", slog.String("channel", truncate(ch, 200)))
}

// disconnected logs the end of a connection: at debug when the client
// closed it, the link dropped or the server closed it with a Pusher code,
// as a refusal when the server closed it for a WebSocket protocol error
// (1009 a frame over 64 KiB, 1007 invalid UTF-8, 1002 a malformed frame).
func (l *sockLog) disconnected(c *client, err error) {
	if l == nil {
		return
	}
	since := func() slog.Attr {
		return slog.String("connected_for", time.Since(time.Unix(0, c.opened)).Round(time.Millisecond).String())
	}
	// The code of a close the server sent: gws's own for what it refused
	// (1002, 1007, 1009…), or a Pusher code the server closed with (4000
	// and up, logged already as "closing connection").
	var status interface{ Uint16() uint16 }
	sent := errors.As(err, &status)
	if sent && status.Uint16() != 1000 && status.Uint16() != 1001 && status.Uint16() < 4000 {
		l.refused(c, "connection closed for a protocol error", slog.Int("code", int(status.Uint16())), slog.String("reason", err.Error()), since())
		return
	}
	if !l.log.Enabled(l.ctx, slog.LevelDebug) {
		return // the routine end of a connection: nothing to build
	}
	var closed *gws.CloseError
	switch {
	case errors.As(err, &closed):
		l.debug(c, "disconnected", slog.Int("code", int(closed.Code)), since())
	case sent:
		l.debug(c, "disconnected", slog.Int("code", int(status.Uint16())), since())
	default:
		reason := "connection lost"
		if err != nil && err.Error() != "" {
			reason = err.Error()
		}
		l.debug(c, "disconnected", slog.String("reason", reason), since())
	}
}

// closing logs a connection the server closes with a Pusher code (a
// shutdown's 4200 only at debug: every socket gets one).
func (l *sockLog) closing(c *client, code int, reason string) {
	if code == protocol.CodeReconnect {
		l.debug(c, "closing connection", slog.Int("code", code), slog.String("reason", reason))
		return
	}
	l.refused(c, "closing connection", slog.Int("code", code), slog.String("reason", reason))
}

// frameRefused logs a frame answered with a pusher:error (4300 invalid,
// 4301 client event refused, 4009 signin refused…).
func (l *sockLog) frameRefused(c *client, code int, ch, reason string) {
	attrs := []slog.Attr{slog.Int("code", code), slog.String("reason", reason)}
	if ch != "" {
		attrs = append(attrs, slog.String("channel", truncate(ch, 200)))
	}
	l.refused(c, "frame refused", attrs...)
}

// subscriptionRefused logs a subscription_error.
func (l *sockLog) subscriptionRefused(c *client, ch string, r *refusal) {
	l.refused(c, "subscription refused", slog.String("channel", truncate(ch, 200)), slog.String("type", r.typ),
		slog.Int("status", r.status), slog.String("reason", r.msg))
}

// handshakeRefused logs a connection refused before it had a socket id: an
// unknown app key (4001), a disabled app, an origin, a protocol version.
// key is the app key the client asked for (public, but bounded here).
func (l *sockLog) handshakeRefused(r *http.Request, key string, code int, reason string) {
	if l == nil {
		return
	}
	attrs := []slog.Attr{slog.String("app", truncate(key, 64)), slog.String("remote", r.RemoteAddr),
		slog.Int("code", code), slog.String("reason", reason)}
	if f := r.Header.Get("X-Forwarded-For"); f != "" {
		attrs = append(attrs, slog.String("forwarded_for", truncate(f, 200)))
	}
	if o := r.Header.Get("Origin"); o != "" && code == protocol.CodeUnauthorized {
		attrs = append(attrs, slog.String("origin", truncate(o, 200)))
	}
	l.lim.Log(l.ctx, l.log, slog.LevelInfo, host(r.RemoteAddr), "connection refused", attrs...)
}
