package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/pushd/pushd/webhook"
)

// DeadLetters lists and replays the webhook batches that exhausted their
// retries; *webhook.Dispatcher is the implementation.
type DeadLetters interface {
	Failed(ctx context.Context, app string, since time.Time, limit int) ([]webhook.DeadLetter, bool, error)
	Replay(ctx context.Context, app string, since time.Time, limit int) (webhook.ReplayResult, error)
}

// deadQuery reads the since (RFC 3339, unix seconds or a duration back) and
// limit of a dead-letter call.
func deadQuery(r *http.Request) (since time.Time, limit int, err error) {
	q := r.URL.Query()
	if s := q.Get("since"); s != "" {
		if since, err = webhook.ParseSince(s, time.Now()); err != nil {
			return since, 0, badRequest(err.Error())
		}
	}
	limit = webhook.DefaultLimit
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > webhook.MaxLimit {
			return since, 0, badRequest("limit must be a number from 1 to " + strconv.Itoa(webhook.MaxLimit))
		}
	}
	return since, limit, nil
}

// failedWebhooks answers GET /apps/{id}/webhooks/failed: the app's dead
// letters (what `pushd webhooks failed` prints).
func (s *Server) failedWebhooks(w http.ResponseWriter, req request) {
	since, limit, err := deadQuery(req.r)
	if err != nil {
		WriteErr(w, err)
		return
	}
	list, more, err := s.dead.Failed(req.r.Context(), req.app.Key, since, limit)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, webhook.FailedAnswer{Failed: list, More: more})
}

// replayWebhooks answers POST /apps/{id}/webhooks/replay: the app's dead
// letters are sent again (`pushd webhooks replay`).
func (s *Server) replayWebhooks(w http.ResponseWriter, req request) {
	since, limit, err := deadQuery(req.r)
	if err != nil {
		WriteErr(w, err)
		return
	}
	res, err := s.dead.Replay(req.r.Context(), req.app.Key, since, limit)
	switch {
	case errors.Is(err, webhook.ErrReplayRunning):
		writeError(w, http.StatusConflict, err.Error())
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, err.Error())
	default:
		writeJSON(w, http.StatusOK, res)
	}
}
