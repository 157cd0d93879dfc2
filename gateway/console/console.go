// Package console is the debug console on the API port, the page an
// operator opens first: live graphs of the cluster (package stats); an
// app's channels with their subscribers, members and messages per second;
// this node's connections with their details and a disconnect button; the
// app's live stream (events, connections, channels occupied and vacated,
// members, webhook attempts) with a channel filter and a pause; a form to
// trigger an event; and the app management of the admin API.
//
// It is off unless a console password is configured or console_with_secret
// lets apps log in with their key and secret. The page and its assets are
// public (they hold no data); every /console/api/ call takes HTTP Basic
// credentials, which the page sends from its login form, from the address
// it was opened with (http://user:pass@host/console), or which the browser
// adds after its own login (/console?basic). It reads the node through a
// read-only view; its one action on a socket is the disconnect.
package console

import (
	"context"
	"net/http"
	"strings"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/presence"
	"github.com/pushd/pushd/stats"
)

// Local is this node's sockets as the console sees them;
// *gateway.Gateway is the implementation.
type Local interface {
	// EachSocket calls f for each of an app's connections on this node.
	EachSocket(app string, f func(gateway.Socket))
	// CloseSocket closes one of them with 4009 (false: no such socket).
	CloseSocket(app, socketID string) bool
}

// Deps are what the console is built on.
type Deps struct {
	// Node is this node's id (the first part of its socket ids) and
	// NodeName its readable name.
	Node, NodeName string
	Apps           *apps.Table
	Local          Local
	Presence       interface {
		Channels(app, prefix string) ([]string, map[string]int)
		Members(app, channel string) []presence.Member
	}
	Broker interface {
		Tap(app string, f func(bus.Delivery)) (func(), error)
		TapControl(app, kind string, f func([]byte)) (func(), error)
		PublishControl(app, kind string, data []byte) error
	}
	// Stats are the cluster's figures for the graphs (nil: no graphs).
	Stats interface {
		Series(app string, server bool) stats.Series
	}
	// Trigger stores one event given as the JSON of an /events request;
	// (*api.Server).Trigger is the implementation.
	Trigger func(ctx context.Context, a *apps.App, body []byte) error
	// Password lets an operator see every app (HTTP Basic, any user).
	Password string
	// WithSecret lets each app's key and secret log in to that app.
	WithSecret bool
}

// Console serves the console's page and its JSON endpoints.
type Console struct {
	d        Deps
	watchers watchers
	assets   map[string]http.Handler
}

// New builds a console.
func New(d Deps) (*Console, error) {
	a, err := loadAssets()
	if err != nil {
		return nil, err
	}
	if d.NodeName == "" {
		d.NodeName = d.Node
	}
	return &Console{d: d, assets: a, watchers: watchers{m: map[string][]*stream{}}}, nil
}

// Register adds the console's routes to mux.
func (c *Console) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /console", c.page)
	mux.HandleFunc("GET /console/assets/{file}", c.asset)
	mux.HandleFunc("GET /console/api/apps", c.auth(c.appList))
	mux.HandleFunc("GET /console/api/stats", c.app(c.stats))
	mux.HandleFunc("GET /console/api/series", c.app(c.series))
	mux.HandleFunc("GET /console/api/events", c.app(c.events))
	mux.HandleFunc("POST /console/api/trigger", c.app(c.trigger))
	mux.HandleFunc("POST /console/api/disconnect", c.app(c.disconnect))
}

// Listener is the console's part of the presence transitions: channels
// occupied and vacated and members added and removed, for the streams of
// the consoles open on this node (every node sees every transition).
func (c *Console) Listener() presence.Listener { return &c.watchers }

// internal reports a channel of the server's own ('#': the user channels
// #server-to-user-…, #online, #connections): marked, and hidden unless
// asked for.
func internal(channel string) bool { return strings.HasPrefix(channel, "#") }
