package api

import (
	"net/http"
	"strconv"

	"github.com/pushd/pushd/gateway/protocol"
)

// maxStatusIDs bounds the users of one POST /apps/{id}/users/status.
const maxStatusIDs = 100

// userStatus is one user's online status: signed in (pusher:signin) on at
// least one connection of the cluster, on how many, and since when (the
// oldest of them signed in, unix milliseconds).
type userStatus struct {
	ID      string `json:"id"`
	Online  bool   `json:"online"`
	Sockets int    `json:"sockets"`
	SinceMS int64  `json:"since_ms,omitempty"`
}

// statusOf reads a user's status from the cluster-wide presence view.
func (b *backendState) statusOf(app, id string) userStatus {
	st := b.presence.UserStatus(app, protocol.OnlineChannel, id)
	u := userStatus{ID: id, Online: st.Sockets > 0, Sockets: st.Sockets}
	if u.Online {
		u.SinceMS = st.Since.UnixMilli()
	}
	return u
}

// oneUserStatus answers GET /apps/{id}/users/{user}.
func (b *backendState) oneUserStatus(w http.ResponseWriter, req request) {
	writeJSON(w, http.StatusOK, b.statusOf(req.app.Key, req.r.PathValue("user")))
}

// userStatuses answers POST /apps/{id}/users/status {"ids":[…]} (at most
// maxStatusIDs) with each user's status, in the order asked.
func (b *backendState) userStatuses(w http.ResponseWriter, req request) {
	var body struct {
		IDs *[]string `json:"ids"`
	}
	if err := decodeStrict(req.body, &body); err != nil {
		WriteErr(w, badRequest(err.Error()+`: send {"ids":["user id",…]}`))
		return
	}
	switch {
	case body.IDs == nil:
		writeError(w, http.StatusBadRequest, `ids is required: send {"ids":["user id",…]}`)
		return
	case len(*body.IDs) > maxStatusIDs:
		writeError(w, http.StatusBadRequest, "ids holds "+strconv.Itoa(len(*body.IDs))+" user ids, at most "+strconv.Itoa(maxStatusIDs)+" are allowed: split the list")
		return
	}
	users := make([]userStatus, len(*body.IDs))
	for i, id := range *body.IDs {
		if id == "" {
			writeError(w, http.StatusBadRequest, "ids["+strconv.Itoa(i)+"] is empty: user ids are non-empty strings")
			return
		}
		users[i] = b.statusOf(req.app.Key, id)
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users})
}
