package gateway

import (
	"net/http"
	"sort"
	"time"
	"unique"

	"github.com/pushd/pushd/gateway/protocol"
)

// Socket is one connection of this node as the console shows it.
type Socket struct {
	ID     string
	UserID string // signed in with pusher:signin; "" otherwise
	// Remote is the TCP peer (behind a proxy: the proxy), read from the
	// connection; UserAgent the handshake's User-Agent (256 bytes at most).
	Remote, UserAgent string
	Since             time.Time
	Channels          []string // sorted
}

// EachSocket calls f for each of an app's connections on this node: the
// console's read-only view of the node.
func (g *Gateway) EachSocket(app string, f func(Socket)) {
	g.clients.each(func(c *client) {
		if c.app().Key != app {
			return
		}
		c.mu.Lock()
		s := Socket{ID: c.socketID, UserID: c.userID, Channels: make([]string, 0, c.subs.len())}
		c.subs.each(func(ch string, _ *subscription) { s.Channels = append(s.Channels, ch) })
		c.mu.Unlock()
		sort.Strings(s.Channels)
		s.Remote, s.UserAgent, s.Since = c.remote(), c.userAgent(), time.Unix(0, c.opened)
		f(s)
	})
}

// CloseSocket closes one of an app's connections on this node with 4009,
// as the console's disconnect button asks; false when this node has no
// such socket.
func (g *Gateway) CloseSocket(app, socketID string) bool {
	c := g.clients.find(socketID)
	if c == nil || c.app().Key != app {
		return false
	}
	c.fail(protocol.CodeUnauthorized, "disconnected by an operator from the server's console")
	return true
}

// disconnectControl handles a ControlDisconnect sent by the console of any
// node: the node holding the socket closes it.
func (g *Gateway) disconnectControl(app string, socketID []byte) {
	g.CloseSocket(app, string(socketID))
}

// userAgent is the User-Agent of c's handshake.
func (c *client) userAgent() string {
	if c.ws == nil {
		return ""
	}
	if s, ok := c.ws.Session().(*session); ok && s.ua != (unique.Handle[string]{}) {
		return s.ua.Value()
	}
	return ""
}

// terminateLocal closes this node's connections of one user (a terminate
// control message, sent by the API of any node).
func (g *Gateway) terminateLocal(app string, userID []byte) {
	id := string(userID)
	g.clients.each(func(c *client) {
		if c.app().Key == app && c.user() == id {
			c.fail(protocol.CodeUnauthorized, "connection terminated by the app's backend (terminate_connections for this user)")
		}
	})
}

// serveStatic answers a plain HTTP request on the WebSocket port with the
// client libraries, or a 404.
func (g *Gateway) serveStatic(w http.ResponseWriter, r *http.Request) {
	if g.static != nil {
		if h, pattern := g.static.Handler(r); pattern != "" {
			h.ServeHTTP(w, r)
			return
		}
	}
	http.Error(w, "not found: "+r.URL.Path, http.StatusNotFound)
}
