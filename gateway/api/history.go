package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/protocol"
)

// History reads a channel's stored events for the history endpoint;
// *bus.Bus is the implementation.
type History interface {
	After(ctx context.Context, app, channel string, from, to uint64, max int) ([]bus.Delivery, error)
	Bounds(ctx context.Context, app string) (first, last uint64, err error)
}

// The history endpoint answers at most historyMaxLimit events a call,
// historyLimit when the caller does not say.
const (
	historyLimit    = 100
	historyMaxLimit = 1000
)

// historyEvent is one stored event as the history endpoint answers it.
type historyEvent struct {
	Seq      uint64 `json:"seq"`
	Event    string `json:"event"`
	Data     string `json:"data"`
	TimeMS   int64  `json:"time_ms"`
	SocketID string `json:"socket_id,omitempty"`
}

// historyQuery is a parsed history request.
type historyQuery struct {
	after uint64
	limit int
}

// parseHistoryQuery reads after_seq (default 0) and limit (default 100,
// above 1,000 taken as 1,000).
func parseHistoryQuery(get func(string) string) (historyQuery, error) {
	q := historyQuery{limit: historyLimit}
	if v := get("after_seq"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return q, badRequest("after_seq must be a whole number of 0 or more (a seq the client saw), got " + strconv.Quote(truncate(v, 40)))
		}
		q.after = n
	}
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return q, badRequest("limit must be a whole number from 1 to " + itoa(historyMaxLimit) + ", got " + strconv.Quote(truncate(v, 40)))
		}
		q.limit = min(n, historyMaxLimit)
	}
	return q, nil
}

// history answers GET /apps/{id}/channels/{channel}/events: the channel's
// stored events after after_seq, oldest first, at most limit of them;
// "more" says whether others follow, and first_seq is the first position
// the app's stream still holds (read after the events), so that a caller
// whose after_seq + 1 is below it knows that events in between are gone.
func (s *Server) history(w http.ResponseWriter, req request) {
	a, ch := req.app, req.r.PathValue("channel")
	if err := protocol.ValidateChannel(ch, a.MaxChannelNameLength); err != nil {
		writeError(w, http.StatusBadRequest, "channel: "+err.Error())
		return
	}
	q, err := parseHistoryQuery(req.r.URL.Query().Get)
	if err != nil {
		WriteErr(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(req.r.Context(), storeTimeout)
	defer cancel()
	stored, err := s.broker.After(ctx, a.Key, ch, q.after, 0, q.limit+1)
	if errors.Is(err, bus.ErrSubjectTooLong) {
		writeError(w, http.StatusBadRequest, "channel: name too long for the event store")
		return
	}
	var first uint64
	if err == nil {
		first, _, err = s.broker.Bounds(ctx, a.Key)
	}
	if err != nil {
		s.log.Error("read history", slog.String("app", a.Key), slog.String("channel", ch), slog.Any("err", err))
		writeError(w, http.StatusServiceUnavailable, "the event store could not be read, try again")
		return
	}
	more := len(stored) > q.limit
	if more {
		stored = stored[:q.limit]
	}
	events := make([]historyEvent, 0, len(stored))
	for _, d := range stored {
		f, err := protocol.ParseFrame(d.Frame)
		if err != nil {
			s.log.Error("stored event is not a frame", slog.String("app", a.Key), slog.String("channel", ch), slog.Uint64("seq", d.Seq), slog.Any("err", err))
			continue
		}
		data, _ := protocol.DataString(f.Data)
		e := historyEvent{Seq: d.Seq, Event: f.Event, Data: data, SocketID: d.Exclude}
		if !d.Stored.IsZero() {
			e.TimeMS = d.Stored.UnixMilli()
		}
		events = append(events, e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": events, "more": more, "first_seq": first})
}
