package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/pushd/pushd/webhook"
)

// WebhookState reads the state an app's webhook endpoint was reported;
// *webhook.Dispatcher is the implementation.
type WebhookState interface {
	Snapshot(ctx context.Context, app, endpoint string) (webhook.Snapshot, error)
}

// webhookState answers GET /apps/{id}/webhooks/state?endpoint=NAME: the
// channels, members and users as the endpoint's webhooks last reported
// them, with the endpoint's seq they cover (webhook.Snapshot). endpoint may
// be left out when the app has one endpoint.
func (b *backendState) webhookState(w http.ResponseWriter, req request) {
	ctx, cancel := context.WithTimeout(req.r.Context(), storeTimeout)
	defer cancel()
	snap, err := b.state.Snapshot(ctx, req.app.Key, req.r.URL.Query().Get("endpoint"))
	switch {
	case errors.Is(err, webhook.ErrUnknownEndpoint), errors.Is(err, webhook.ErrUnknownApp):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, webhook.ErrWhichEndpoint):
		writeError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, err.Error())
	default:
		writeJSON(w, http.StatusOK, snap)
	}
}
