package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/pushd/pushd/gateway/protocol"
)

// The channel queries of an app in webman mode, answered as webman/push's
// server answers them (its Server::onApiClientMessage): unknown info
// attributes are ignored, user_count is 0 outside presence channels, and
// /users is a bare array, empty outside presence channels.

// webmanInfo lists the known attributes of an info parameter in the order
// given, each once, as webman's server writes them.
func webmanInfo(info string) []string {
	var out []string
	for _, f := range strings.Split(info, ",") {
		if (f == "user_count" || f == "subscription_count") && !containsString(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// webmanChannel answers GET /channels/{c}: {"occupied":…} then the
// requested counts in the order asked.
func (s *Server) webmanChannel(w http.ResponseWriter, req request, ch string) {
	a := req.app
	subs := s.presence.SubscriptionCount(a.Key, ch)
	b := []byte(`{"occupied":`)
	b = strconv.AppendBool(b, subs > 0)
	for _, f := range webmanInfo(req.r.URL.Query().Get("info")) {
		n := subs
		if f == "user_count" {
			n = s.presence.UserCount(a.Key, ch)
		}
		b = append(b, `,"`...)
		b = append(b, f...)
		b = append(b, `":`...)
		b = strconv.AppendInt(b, int64(n), 10)
	}
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// webmanChannels answers GET /channels: every occupied channel (after
// filter_by_prefix), with subscription_count when asked; webman's server
// has no user_count here.
func (s *Server) webmanChannels(w http.ResponseWriter, req request) {
	q := req.r.URL.Query()
	withCount := containsString(webmanInfo(q.Get("info")), "subscription_count")
	names, _ := s.presence.Channels(req.app.Key, q.Get("filter_by_prefix"))
	chans := make(map[string]any, len(names))
	for _, ch := range names {
		info := map[string]int{}
		if withCount {
			info["subscription_count"] = s.presence.SubscriptionCount(req.app.Key, ch)
		}
		chans[ch] = info
	}
	writeJSON(w, http.StatusOK, map[string]any{"channels": chans})
}

// webmanUsers answers GET /channels/{c}/users: a bare array of {"id":…},
// ids typed as webman's server types them, [] outside presence channels.
func (s *Server) webmanUsers(w http.ResponseWriter, req request, ch string) {
	users := []map[string]any{}
	if protocol.KindOf(ch) == protocol.Presence {
		for _, m := range s.presence.Members(req.app.Key, ch) {
			users = append(users, map[string]any{"id": protocol.WebmanUserID(m.UserID)})
		}
	}
	writeJSON(w, http.StatusOK, users)
}
