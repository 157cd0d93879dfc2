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
func (s *Server) statusOf(app, id string) userStatus {
	st := s.presence.UserStatus(app, protocol.OnlineChannel, id)
	u := userStatus{ID: id, Online: st.Sockets > 0, Sockets: st.Sockets}
	if u.Online {
		u.SinceMS = st.Since.UnixMilli()
	}
	return u
}

// userOrStatuses routes /apps/{id}/users/{user}: POST .../users/status
// asks for many users, any other request is about the user named.
func (s *Server) userOrStatuses(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("user") == "status" && r.Method == http.MethodPost {
		s.signed(http.MethodPost, s.userStatuses)(w, r)
		return
	}
	s.signed(http.MethodGet, s.oneUserStatus)(w, r)
}

// oneUserStatus answers GET /apps/{id}/users/{user}.
func (s *Server) oneUserStatus(w http.ResponseWriter, req request) {
	writeJSON(w, http.StatusOK, s.statusOf(req.app.Key, req.r.PathValue("user")))
}

// userStatuses answers POST /apps/{id}/users/status {"ids":[…]} (at most
// maxStatusIDs) with each user's status, in the order asked.
func (s *Server) userStatuses(w http.ResponseWriter, req request) {
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
		users[i] = s.statusOf(req.app.Key, id)
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users})
}
