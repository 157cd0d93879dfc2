package api

import (
	"net/http"

	"github.com/pushd/pushd/webhook"
)

// registerBackendState adds the calls a backend rebuilds and follows its
// state with: users' online status, the replacement of a user's watchlist,
// and the webhook state snapshot.
func (s *Server) registerBackendState(mux *http.ServeMux) {
	mux.HandleFunc("/apps/{app}/users/{user}", s.userOrStatuses)
	mux.HandleFunc("/apps/{app}/users/{user}/watchlist", s.signed(http.MethodPut, s.replaceWatchlist))
	if s.state != nil {
		mux.HandleFunc(webhook.PathState, s.signed(http.MethodGet, s.webhookState))
	}
}
