package gateway

import (
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/protocol"
)

//go:embed console.html
var consolePage []byte

// console serves the debug console: a page with the live connections,
// channels and members of an app, the events flowing through it, and a form
// to trigger one. It is off unless a console password is configured or
// console_with_secret lets apps log in with their key and secret.
func (g *Gateway) registerConsole(mux *http.ServeMux) {
	mux.HandleFunc("GET /console", g.consoleAuth(func(w http.ResponseWriter, r *http.Request, _ []string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(consolePage)
	}))
	mux.HandleFunc("GET /console/api/apps", g.consoleAuth(func(w http.ResponseWriter, r *http.Request, keys []string) {
		writeJSON(w, http.StatusOK, map[string]any{"apps": keys, "node": g.node})
	}))
	mux.HandleFunc("GET /console/api/stats", g.consoleApp(g.consoleStats))
	mux.HandleFunc("GET /console/api/events", g.consoleApp(g.consoleEvents))
	mux.HandleFunc("POST /console/api/trigger", g.consoleApp(g.consoleTrigger))
}

// consoleAuth checks HTTP Basic credentials and passes on the app keys the
// caller may see.
func (g *Gateway) consoleAuth(f func(http.ResponseWriter, *http.Request, []string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if g.cfg.ConsolePassword == "" && !g.cfg.ConsoleWithSecret {
			writeError(w, http.StatusNotFound, "the console is off: set console_password or console_with_secret")
			return
		}
		user, pass, ok := r.BasicAuth()
		var keys []string
		if ok && g.cfg.ConsolePassword != "" && subtle.ConstantTimeCompare([]byte(pass), []byte(g.cfg.ConsolePassword)) == 1 {
			for k := range *g.apps.Load() {
				keys = append(keys, k)
			}
			sort.Strings(keys)
		} else if a := g.app(user); ok && g.cfg.ConsoleWithSecret && a != nil &&
			subtle.ConstantTimeCompare([]byte(pass), []byte(a.Secret)) == 1 {
			keys = []string{a.Key}
		}
		if len(keys) == 0 {
			w.Header().Set("WWW-Authenticate", `Basic realm="pushd console"`)
			writeError(w, http.StatusUnauthorized, "console login required")
			return
		}
		f(w, r, keys)
	}
}

// consoleApp resolves the ?app= the caller may see.
func (g *Gateway) consoleApp(f func(http.ResponseWriter, *http.Request, *app)) http.HandlerFunc {
	return g.consoleAuth(func(w http.ResponseWriter, r *http.Request, keys []string) {
		key := r.URL.Query().Get("app")
		for _, k := range keys {
			if a := g.app(k); k == key && a != nil {
				f(w, r, a)
				return
			}
		}
		writeError(w, http.StatusNotFound, "unknown app")
	})
}

type consoleSocket struct {
	SocketID string   `json:"socket_id"`
	UserID   string   `json:"user_id,omitempty"`
	Channels []string `json:"channels"`
}

type consoleChannel struct {
	Name        string   `json:"name"`
	Subscribers int      `json:"subscription_count"`
	Members     []string `json:"members,omitempty"`
}

func (g *Gateway) consoleStats(w http.ResponseWriter, r *http.Request, a *app) {
	const maxSockets = 200
	var sockets []consoleSocket
	total := 0
	g.clients.each(func(c *client) {
		if c.app().Key != a.Key {
			return
		}
		total++
		if len(sockets) >= maxSockets {
			return
		}
		c.mu.Lock()
		s := consoleSocket{SocketID: c.socketID, UserID: c.userID, Channels: make([]string, 0, len(c.subs))}
		for ch := range c.subs {
			s.Channels = append(s.Channels, ch)
		}
		c.mu.Unlock()
		sort.Strings(s.Channels)
		sockets = append(sockets, s)
	})
	sort.Slice(sockets, func(i, j int) bool { return sockets[i].SocketID < sockets[j].SocketID })
	names, counts := g.presence.Channels(a.Key, "")
	chans := make([]consoleChannel, 0, len(names))
	for _, n := range names {
		cc := consoleChannel{Name: n, Subscribers: counts[n]}
		if protocol.KindOf(n) == protocol.Presence {
			for _, m := range g.presence.Members(a.Key, n) {
				cc.Members = append(cc.Members, m.UserID)
			}
		}
		chans = append(chans, cc)
	}
	writeJSON(w, http.StatusOK, map[string]any{"app": a.Key, "node": g.node, "connections": total,
		"sockets": sockets, "channels": chans})
}

// consoleEvents streams the app's events as Server-Sent Events.
func (g *Gateway) consoleEvents(w http.ResponseWriter, r *http.Request, a *app) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	events := make(chan bus.Delivery, 256)
	stop, err := g.broker.Tap(a.Key, func(d bus.Delivery) {
		select {
		case events <- d:
		default: // a slow console misses events rather than slowing anyone
		}
	})
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "cannot watch events: "+err.Error())
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

// consoleTrigger publishes one event from the console's form. Only a JSON
// body from the console's own origin is accepted: a cross-site page cannot
// send application/json without a CORS preflight (which is never granted),
// and a browser names the page's origin in Origin, so a logged-in browser
// cannot be made to trigger events from another site.
func (g *Gateway) consoleTrigger(w http.ResponseWriter, r *http.Request, a *app) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "the console's trigger takes application/json")
		return
	}
	if !sameOrigin(r) {
		writeError(w, http.StatusForbidden, "cross-origin trigger refused: use the console page itself")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(a.MaxEventBytes)+4096))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "request body is larger than the app allows")
		return
	}
	var e eventBody
	if err := decodeStrict(body, &e); err != nil {
		writeAPIError(w, err)
		return
	}
	p, err := g.prepare(a, e)
	if err == nil {
		err = g.store(r.Context(), a, p.out)
	}
	if err != nil {
		writeAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
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
