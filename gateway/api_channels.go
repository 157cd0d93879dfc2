package gateway

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/protocol"
)

func itoa(n int) string { return strconv.Itoa(n) }

func (g *Gateway) apiChannels(w http.ResponseWriter, req apiRequest) {
	if req.app.Webman() {
		g.webmanChannels(w, req)
		return
	}
	q := req.r.URL.Query()
	prefix := q.Get("filter_by_prefix")
	attrs, err := parseInfo(q.Get("info"), []string{"user_count", "subscription_count"}, nil)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	if attrs["user_count"] && protocol.KindOf(prefix) != protocol.Presence {
		writeError(w, http.StatusBadRequest, "info=user_count needs filter_by_prefix=presence-")
		return
	}
	names, _ := g.presence.Channels(req.app.Key, prefix)
	chans := make(map[string]any, len(names))
	for _, ch := range names {
		chans[ch] = g.channelInfo(req.app, ch, attrs)
	}
	writeJSON(w, http.StatusOK, map[string]any{"channels": chans})
}

func (g *Gateway) apiChannel(w http.ResponseWriter, req apiRequest) {
	a, ch := req.app, req.r.PathValue("channel")
	if err := protocol.ValidateChannel(ch, a.MaxChannelNameLength); err != nil {
		writeError(w, http.StatusBadRequest, "channel: "+err.Error())
		return
	}
	if a.Webman() {
		g.webmanChannel(w, req, ch)
		return
	}
	attrs, err := parseInfo(req.r.URL.Query().Get("info"), []string{"user_count", "subscription_count", "cache"}, []string{ch})
	if err != nil {
		writeAPIError(w, err)
		return
	}
	m := g.channelInfo(a, ch, attrs)
	m["occupied"] = g.presence.SubscriptionCount(a.Key, ch) > 0
	if attrs["cache"] {
		if c, err := g.cacheInfo(req.r.Context(), a, ch); err != nil {
			writeAPIError(w, err)
			return
		} else if c != nil {
			m["cache"] = c
		}
	}
	writeJSON(w, http.StatusOK, m)
}

// cacheInfo describes a cache channel's cached event, or nil.
func (g *Gateway) cacheInfo(ctx context.Context, a *app, ch string) (map[string]any, error) {
	if !protocol.IsCache(ch) {
		return nil, badRequest("info=cache is only available for cache channels")
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	last, err := g.broker.Last(ctx, a.Key, ch)
	if errors.Is(err, bus.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, &apiError{http.StatusServiceUnavailable, "the cache could not be read, try again"}
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

func (g *Gateway) apiUsers(w http.ResponseWriter, req apiRequest) {
	ch := req.r.PathValue("channel")
	if req.app.Webman() {
		g.webmanUsers(w, req, ch)
		return
	}
	if protocol.KindOf(ch) != protocol.Presence {
		writeError(w, http.StatusBadRequest, "users are only available for presence channels")
		return
	}
	members := g.presence.Members(req.app.Key, ch)
	users := make([]map[string]string, len(members))
	for i, m := range members {
		users[i] = map[string]string{"id": m.UserID}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users})
}

func (g *Gateway) apiTerminate(w http.ResponseWriter, req apiRequest) {
	user := req.r.PathValue("user")
	if user == "" {
		writeError(w, http.StatusBadRequest, "user id is required")
		return
	}
	if err := g.broker.PublishControl(req.app.Key, controlTerminate, []byte(user)); err != nil {
		writeError(w, http.StatusServiceUnavailable, "could not reach the other nodes, try again")
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
