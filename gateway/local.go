package gateway

import (
	"net/http"
	"sort"

	"github.com/pushd/pushd/gateway/protocol"
)

// EachSocket calls f for each of an app's connections on this node, with
// its socket id, signed-in user id and channels (sorted): the console's
// read-only view of the node.
func (g *Gateway) EachSocket(app string, f func(socketID, userID string, channels []string)) {
	g.clients.each(func(c *client) {
		if c.app().Key != app {
			return
		}
		c.mu.Lock()
		user := c.userID
		chans := make([]string, 0, c.subs.len())
		c.subs.each(func(ch string, _ *subscription) { chans = append(chans, ch) })
		c.mu.Unlock()
		sort.Strings(chans)
		f(c.socketID, user, chans)
	})
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
