package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/protocol"
)

// replaceWatchlist answers PUT /apps/{id}/users/{user}/watchlist
// {"watchlist":[…]}: every gateway replaces the watchlist of the user's
// signed-in connections and sends them the online/offline events that
// follow, without a new signin. Ids are strings or numbers, as in
// user_data; at most protocol.MaxWatchlist; [] watches nobody.
func (b *backendState) replaceWatchlist(w http.ResponseWriter, req request) {
	user := req.r.PathValue("user")
	var body struct {
		Watchlist *[]json.RawMessage `json:"watchlist"`
	}
	if err := decodeStrict(req.body, &body); err != nil {
		WriteErr(w, badRequest(err.Error()+`: send {"watchlist":["user id",…]}`))
		return
	}
	if body.Watchlist == nil {
		writeError(w, http.StatusBadRequest, `watchlist is required: send {"watchlist":["user id",…]} ([] watches nobody)`)
		return
	}
	raw := *body.Watchlist
	if len(raw) > protocol.MaxWatchlist {
		writeError(w, http.StatusBadRequest, "watchlist holds "+strconv.Itoa(len(raw))+" ids, at most "+strconv.Itoa(protocol.MaxWatchlist)+" are watched")
		return
	}
	ids := make([]string, len(raw))
	for i, r := range raw {
		id, ok := watchedID(r)
		switch {
		case !ok:
			writeError(w, http.StatusBadRequest, "watchlist["+strconv.Itoa(i)+"] is not a user id: give non-empty strings or numbers")
			return
		case len(id) > req.app.MaxUserIDLength:
			writeError(w, http.StatusBadRequest, "watchlist["+strconv.Itoa(i)+"] is longer than max_user_id_length ("+strconv.Itoa(req.app.MaxUserIDLength)+"): no such user can sign in")
			return
		}
		ids[i] = id
	}
	msg, err := json.Marshal(bus.WatchlistControl{UserID: user, Watchlist: ids})
	if err != nil {
		WriteErr(w, err)
		return
	}
	if err := b.broker.PublishControl(req.app.Key, bus.ControlWatchlist, msg); err != nil {
		writeError(w, http.StatusServiceUnavailable, "could not reach the other nodes, try again")
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// watchedID reads one watchlist entry: a non-empty string, or a number in
// its JSON form (as a signin's user_data watchlist takes them).
func watchedID(raw json.RawMessage) (string, bool) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, x != ""
	case float64:
		b, _ := json.Marshal(x)
		return string(b), true
	}
	return "", false
}
