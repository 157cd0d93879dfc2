package api

import (
	"net/http"

	"github.com/pushd/pushd/webhook"
)

// backendState answers the calls a backend rebuilds and follows its state
// with: users' online status (userstatus.go), the replacement of a user's
// watchlist (watchlist.go) and the webhook state snapshot
// (webhookstate.go). Its calls are signed by the Server like every other.
type backendState struct {
	presence Presence
	broker   Broker
	state    WebhookState // nil: no snapshot
}

// registerBackendState adds backendState's calls to mux.
func (s *Server) registerBackendState(mux *http.ServeMux) {
	b := &backendState{presence: s.presence, broker: s.broker, state: s.state}
	user, statuses := s.signed(http.MethodGet, b.oneUserStatus), s.signed(http.MethodPost, b.userStatuses)
	// POST .../users/status asks for many users; any other request,
	// GET .../users/status included, is about the user named.
	mux.HandleFunc("/apps/{app}/users/{user}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("user") == "status" && r.Method == http.MethodPost {
			statuses(w, r)
			return
		}
		user(w, r)
	})
	mux.HandleFunc("/apps/{app}/users/{user}/watchlist", s.signed(http.MethodPut, b.replaceWatchlist))
	if b.state != nil {
		mux.HandleFunc(webhook.PathState, s.signed(http.MethodGet, b.webhookState))
	}
}
