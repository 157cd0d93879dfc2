// Package console is the debug console on the API port: a page with the
// live connections, channels and members of an app, the events flowing
// through it, and a form to trigger one. It is off unless a console
// password is configured or console_with_secret lets apps log in with their
// key and secret. It reads a node's sockets through a read-only view and
// never changes them.
package console

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway"
	"github.com/pushd/pushd/gateway/api"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/presence"
)

//go:embed console.html
var page []byte

// Socket is one local connection as the console shows it.
type Socket struct {
	SocketID string   `json:"socket_id"`
	UserID   string   `json:"user_id,omitempty"`
	Channels []string `json:"channels"`
}

// Local is a read-only view of a node's connections; *gateway.Gateway is
// the implementation.
type Local interface {
	// EachSocket calls f for each of an app's connections on this node.
	EachSocket(app string, f func(gateway.Socket))
}

// Deps are what the console is built on.
type Deps struct {
	Node     string
	Apps     *apps.Table
	Local    Local
	Presence interface {
		Channels(app, prefix string) ([]string, map[string]int)
		Members(app, channel string) []presence.Member
	}
	Broker interface {
		Tap(app string, f func(bus.Delivery)) (func(), error)
	}
	// Trigger stores one event given as the JSON of an /events request;
	// (*api.Server).Trigger is the implementation.
	Trigger func(ctx context.Context, a *apps.App, body []byte) error
	// Password lets an operator see every app (HTTP Basic, any user).
	Password string
	// WithSecret lets each app's key and secret log in to that app.
	WithSecret bool
}

// errBadLogin is a console login that matches no secret of the app.
var errBadLogin = errors.New("console login does not match")

// Console serves the console's page and its JSON endpoints.
type Console struct{ d Deps }

// New builds a console.
func New(d Deps) *Console { return &Console{d: d} }

// Register adds the console's routes to mux.
func (c *Console) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /console", c.auth(func(w http.ResponseWriter, r *http.Request, _ []string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(page)
	}))
	mux.HandleFunc("GET /console/api/apps", c.auth(func(w http.ResponseWriter, r *http.Request, keys []string) {
		api.WriteJSON(w, http.StatusOK, map[string]any{"apps": keys, "node": c.d.Node})
	}))
	mux.HandleFunc("GET /console/api/stats", c.app(c.stats))
	mux.HandleFunc("GET /console/api/events", c.app(c.events))
	mux.HandleFunc("POST /console/api/trigger", c.app(c.trigger))
}

// auth checks HTTP Basic credentials and passes on the app keys the caller
// may see.
func (c *Console) auth(f func(http.ResponseWriter, *http.Request, []string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if c.d.Password == "" && !c.d.WithSecret {
			api.WriteError(w, http.StatusNotFound, "the console is off: set console_password or console_with_secret")
			return
		}
		user, pass, ok := r.BasicAuth()
		var keys []string
		if ok && c.d.Password != "" && subtle.ConstantTimeCompare([]byte(pass), []byte(c.d.Password)) == 1 {
			keys = c.d.Apps.Keys()
		} else if a := c.d.Apps.Get(user); ok && c.d.WithSecret && a != nil && a.Verify(time.Now(), func(secret string) error {
			if subtle.ConstantTimeCompare([]byte(pass), []byte(secret)) != 1 {
				return errBadLogin
			}
			return nil
		}) == nil {
			keys = []string{a.Key}
		}
		if len(keys) == 0 {
			w.Header().Set("WWW-Authenticate", `Basic realm="pushd console"`)
			api.WriteError(w, http.StatusUnauthorized, "console login required")
			return
		}
		f(w, r, keys)
	}
}

// app resolves the ?app= the caller may see.
func (c *Console) app(f func(http.ResponseWriter, *http.Request, *apps.App)) http.HandlerFunc {
	return c.auth(func(w http.ResponseWriter, r *http.Request, keys []string) {
		key := r.URL.Query().Get("app")
		for _, k := range keys {
			if a := c.d.Apps.Get(k); k == key && a != nil {
				f(w, r, a)
				return
			}
		}
		api.WriteError(w, http.StatusNotFound, "unknown app")
	})
}

type channel struct {
	Name        string   `json:"name"`
	Subscribers int      `json:"subscription_count"`
	Members     []string `json:"members,omitempty"`
}

func (c *Console) stats(w http.ResponseWriter, r *http.Request, a *apps.App) {
	const maxSockets = 200
	var sockets []Socket
	total := 0
	c.d.Local.EachSocket(a.Key, func(s gateway.Socket) {
		total++
		if len(sockets) < maxSockets {
			sockets = append(sockets, Socket{SocketID: s.ID, UserID: s.UserID, Channels: s.Channels})
		}
	})
	sort.Slice(sockets, func(i, j int) bool { return sockets[i].SocketID < sockets[j].SocketID })
	names, counts := c.d.Presence.Channels(a.Key, "")
	chans := make([]channel, 0, len(names))
	for _, n := range names {
		cc := channel{Name: n, Subscribers: counts[n]}
		if protocol.KindOf(n) == protocol.Presence {
			for _, m := range c.d.Presence.Members(a.Key, n) {
				cc.Members = append(cc.Members, m.UserID)
			}
		}
		chans = append(chans, cc)
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"app": a.Key, "node": c.d.Node, "connections": total,
		"sockets": sockets, "channels": chans})
}

// events streams the app's events as Server-Sent Events.
func (c *Console) events(w http.ResponseWriter, r *http.Request, a *apps.App) {
	fl, ok := w.(http.Flusher)
	if !ok {
		api.WriteError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	events := make(chan bus.Delivery, 256)
	stop, err := c.d.Broker.Tap(a.Key, func(d bus.Delivery) {
		select {
		case events <- d:
		default: // a slow console misses events rather than slowing anyone
		}
	})
	if err != nil {
		api.WriteError(w, http.StatusServiceUnavailable, "cannot watch events: "+err.Error())
		return
	}
	defer stop()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(": watching " + a.Key + "\n\n"))
	fl.Flush()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ping.C:
			w.Write([]byte(": ping\n\n"))
			fl.Flush()
		case d := <-events:
			f, err := protocol.ParseFrame(d.Frame)
			if err != nil {
				continue
			}
			data, _ := protocol.DataString(f.Data)
			b, _ := json.Marshal(map[string]any{"channel": d.Channel, "event": f.Event, "data": data,
				"user_id": f.UserID, "seq": d.Seq, "time_ms": time.Now().UnixMilli()})
			w.Write([]byte("data: "))
			w.Write(b)
			w.Write([]byte("\n\n"))
			fl.Flush()
		}
	}
}

// trigger publishes one event from the console's form. Only a JSON
// body from the console's own origin is accepted: a cross-site page cannot
// send application/json without a CORS preflight (which is never granted),
// and a browser names the page's origin in Origin, so a logged-in browser
// cannot be made to trigger events from another site.
func (c *Console) trigger(w http.ResponseWriter, r *http.Request, a *apps.App) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		api.WriteError(w, http.StatusUnsupportedMediaType, "the console's trigger takes application/json")
		return
	}
	if !sameOrigin(r) {
		api.WriteError(w, http.StatusForbidden, "cross-origin trigger refused: use the console page itself")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(a.MaxEventBytes)+4096))
	if err != nil {
		api.WriteError(w, http.StatusRequestEntityTooLarge, "request body is larger than the app allows")
		return
	}
	if body, err = sealForEncrypted(a, body); err != nil {
		api.WriteErr(w, err)
		return
	}
	if err := c.d.Trigger(r.Context(), a, body); err != nil {
		api.WriteErr(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, struct{}{})
}

// sameOrigin reports whether a request's Origin (or, without one, its
// Sec-Fetch-Site) names the host it was sent to. Requests from tools that
// send neither (curl) pass: they carry the credentials themselves.
func sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		return err == nil && strings.EqualFold(u.Host, r.Host)
	}
	site := r.Header.Get("Sec-Fetch-Site")
	return site == "" || site == "same-origin" || site == "none"
}
