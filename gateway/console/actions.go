package console

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/api"
	"github.com/pushd/pushd/gateway/apps"
)

// fromPage refuses what a logged-in browser could be made to send from
// another site. Only a JSON body from the console's own origin is
// accepted: a cross-site page cannot send application/json without a CORS
// preflight (which is never granted), and a browser names the page's
// origin in Origin.
func fromPage(w http.ResponseWriter, r *http.Request) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		api.WriteError(w, http.StatusUnsupportedMediaType, "the console's actions take application/json")
		return false
	}
	if !sameOrigin(r) {
		api.WriteError(w, http.StatusForbidden, "cross-origin request refused: use the console page itself")
		return false
	}
	return true
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

// trigger publishes one event from the console's form.
func (c *Console) trigger(w http.ResponseWriter, r *http.Request, a *apps.App, _ login) {
	if !fromPage(w, r) {
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

// maxSocketID bounds a socket id in a disconnect request (node.counter).
const maxSocketID = 64

// disconnect closes one socket of the app with 4009: at once when it is on
// this node (200), otherwise through a control message that the node
// holding it acts on (202: the page sees it leave on that node's list).
func (c *Console) disconnect(w http.ResponseWriter, r *http.Request, a *apps.App, _ login) {
	if !fromPage(w, r) {
		return
	}
	var req struct {
		SocketID string `json:"socket_id"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1024)).Decode(&req); err != nil || req.SocketID == "" || len(req.SocketID) > maxSocketID {
		api.WriteError(w, http.StatusBadRequest, `give {"socket_id": "…"}, the id of a connection`)
		return
	}
	if c.d.Local.CloseSocket(a.Key, req.SocketID) {
		api.WriteJSON(w, http.StatusOK, map[string]any{"socket_id": req.SocketID, "closed": true, "node": c.d.NodeName})
		return
	}
	if node, _, _ := strings.Cut(req.SocketID, "."); node == c.d.Node {
		api.WriteError(w, http.StatusNotFound, "no such connection of this app on this node (closed already?)")
		return
	}
	if err := c.d.Broker.PublishControl(a.Key, bus.ControlDisconnect, []byte(req.SocketID)); err != nil {
		api.WriteError(w, http.StatusServiceUnavailable, "cannot reach the other nodes: "+err.Error())
		return
	}
	api.WriteJSON(w, http.StatusAccepted, map[string]any{"socket_id": req.SocketID, "sent": true})
}
