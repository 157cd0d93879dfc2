package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/gateway/protocol"
)

func itoa(n int) string { return strconv.Itoa(n) }

// truncate shortens s to n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func (s *Server) channels(w http.ResponseWriter, req request) {
	if req.app.Webman() {
		s.webmanChannels(w, req)
		return
	}
	q := req.r.URL.Query()
	prefix := q.Get("filter_by_prefix")
	attrs, err := parseInfo(q.Get("info"), []string{"user_count", "subscription_count"}, nil)
	if err != nil {
		WriteErr(w, err)
		return
	}
	if attrs["user_count"] && protocol.KindOf(prefix) != protocol.Presence {
		writeError(w, http.StatusBadRequest, "info=user_count needs filter_by_prefix=presence-")
		return
	}
	names, _ := s.presence.Channels(req.app.Key, prefix)
	chans := make(map[string]any, len(names))
	for _, ch := range names {
		chans[ch] = s.channelInfo(req.app, ch, attrs)
	}
	writeJSON(w, http.StatusOK, map[string]any{"channels": chans})
}

func (s *Server) channel(w http.ResponseWriter, req request) {
	a, ch := req.app, req.r.PathValue("channel")
	if err := protocol.ValidateChannel(ch, a.MaxChannelNameLength); err != nil {
		writeError(w, http.StatusBadRequest, "channel: "+err.Error())
		return
	}
	if a.Webman() {
		s.webmanChannel(w, req, ch)
		return
	}
	attrs, err := parseInfo(req.r.URL.Query().Get("info"), []string{"user_count", "subscription_count", "cache"}, []string{ch})
	if err != nil {
		WriteErr(w, err)
		return
	}
	m := s.channelInfo(a, ch, attrs)
	m["occupied"] = s.presence.SubscriptionCount(a.Key, ch) > 0
	if attrs["cache"] {
		if c, err := s.cacheInfo(req.r.Context(), a, ch); err != nil {
			WriteErr(w, err)
			return
		} else if c != nil {
			m["cache"] = c
		}
	}
	writeJSON(w, http.StatusOK, m)
}

// cacheInfo describes a cache channel's cached event, or nil.
func (s *Server) cacheInfo(ctx context.Context, a *apps.App, ch string) (map[string]any, error) {
	if !protocol.IsCache(ch) {
		return nil, badRequest("info=cache is only available for cache channels")
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	last, err := s.broker.Last(ctx, a.Key, ch)
	if errors.Is(err, bus.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, &Error{http.StatusServiceUnavailable, "the cache could not be read, try again"}
	}
	ttl := a.CacheTTL - time.Since(last.Time)
	if ttl <= 0 {
		return nil, nil
	}
	f, err := protocol.ParseFrame(last.Frame)
	if err != nil {
		return nil, err
	}
	data, _ := protocol.DataString(f.Data)
	return map[string]any{"event": f.Event, "data": data, "ttl": int(ttl.Seconds())}, nil
}

func (s *Server) users(w http.ResponseWriter, req request) {
	ch := req.r.PathValue("channel")
	if req.app.Webman() {
		s.webmanUsers(w, req, ch)
		return
	}
	if protocol.KindOf(ch) != protocol.Presence {
		writeError(w, http.StatusBadRequest, "users are only available for presence channels")
		return
	}
	members := s.presence.Members(req.app.Key, ch)
	users := make([]map[string]string, len(members))
	for i, m := range members {
		users[i] = map[string]string{"id": m.UserID}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users})
}

func (s *Server) terminate(w http.ResponseWriter, req request) {
	user := req.r.PathValue("user")
	if user == "" {
		writeError(w, http.StatusBadRequest, "user id is required")
		return
	}
	if err := s.broker.PublishControl(req.app.Key, bus.ControlTerminate, []byte(user)); err != nil {
		writeError(w, http.StatusServiceUnavailable, "could not reach the other nodes, try again")
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
