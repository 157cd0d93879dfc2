package gateway

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/internal/gws"
)

// feed sends the socket door's entries of an app's feed (a connection
// opened, a connection closed) to the consoles watching the app, as core
// NATS messages (bus.ControlFeed) that any node's console receives. While
// no console watches an app (bus.ControlWatch), a connect or a close costs
// one atomic load and nothing is built or sent.
type feed struct {
	notify func(app, kind string, data []byte) error
	node   string // the node's readable name
}

// feedEntry is a connection's entry, as the console shows it.
type feedEntry struct {
	Type         string `json:"type"`
	SocketID     string `json:"socket_id"`
	Node         string `json:"node"`
	Remote       string `json:"remote,omitempty"`
	UserAgent    string `json:"user_agent,omitempty"`
	UserID       string `json:"user_id,omitempty"`
	Code         int    `json:"code,omitempty"`
	Reason       string `json:"reason,omitempty"`
	ConnectedFor string `json:"connected_for,omitempty"`
	TimeMS       int64  `json:"time_ms"`
}

// connected tells the consoles watching c's app of a new connection.
func (f *feed) connected(c *client) {
	a := c.app()
	if !a.Watched() {
		return
	}
	f.send(a.Key, feedEntry{Type: "connected", SocketID: c.socketID, Node: f.node, Remote: c.remote(),
		UserAgent: c.userAgent(), TimeMS: c.opened / int64(time.Millisecond)})
}

// disconnected tells them of the end of c, with the close code of whoever
// closed it.
func (f *feed) disconnected(c *client, err error) {
	a := c.app()
	if !a.Watched() {
		return
	}
	e := feedEntry{Type: "disconnected", SocketID: c.socketID, Node: f.node, Remote: c.remote(), UserID: c.user(),
		ConnectedFor: time.Since(time.Unix(0, c.opened)).Round(time.Millisecond).String(), TimeMS: time.Now().UnixMilli()}
	var closed *gws.CloseError
	var status interface{ Uint16() uint16 } // the code of a close the server sent
	switch {
	case errors.As(err, &closed):
		e.Code, e.Reason = int(closed.Code), truncate(string(closed.Reason), 200)
	case errors.As(err, &status):
		e.Code, e.Reason = int(status.Uint16()), "closed by the server"
	case err != nil:
		e.Reason = truncate(err.Error(), 200)
	default:
		e.Reason = "connection lost"
	}
	f.send(a.Key, e)
}

func (f *feed) send(app string, e feedEntry) {
	if b, err := json.Marshal(e); err == nil {
		_ = f.notify(app, bus.ControlFeed, b) // a console may miss an entry; the socket never waits
	}
}

// watchControl handles a ControlWatch: a console watches the app's feed.
func (g *Gateway) watchControl(app string, _ []byte) {
	if a := g.apps.Get(app); a != nil {
		a.Watch(time.Now().Add(bus.WatchFor))
	}
}
