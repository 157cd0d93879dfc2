package presence

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Member is one user on a presence channel.
type Member struct {
	UserID   string          `json:"user_id"`
	UserInfo json.RawMessage `json:"user_info,omitempty"`
}

// stored is a member key's value: the member and when its socket joined.
// Nodes that predate Since ignore it; a value without it counts from the
// time the bucket stored the key.
type stored struct {
	Member
	Since int64 `json:"since,omitempty"` // unix milliseconds
}

// Socket names the connection that owns a member key.
type Socket struct{ Node, ID string }

// UserStatus is one user's presence on a channel across the cluster.
type UserStatus struct {
	// Sockets counts the user's connections on the channel (0: absent).
	Sockets int
	// Since is when the oldest of those connections joined (zero: absent).
	Since time.Time
}

// chanKey names a channel of an app.
type chanKey struct{ app, channel string }

// chanView is what the bucket says about one channel, across all nodes.
type chanView struct {
	occ     map[string]int          // node -> local subscriber count
	total   int                     // sum of occ
	sockets map[Socket]socketMember // presence member keys
	users   map[string]*userSockets // user id -> its sockets
	order   []string                // user ids in join order (for stable lists)
}

// socketMember is what the view keeps of one member key.
type socketMember struct {
	userID string
	at     int64 // when the socket joined, unix ms
}

// userSockets is one user of a channel: its info and the join times of its
// sockets (one each).
type userSockets struct {
	ats  []int64
	info json.RawMessage
}

// since is the join time of the user's oldest socket.
func (u *userSockets) since() int64 { return slices.Min(u.ats) }

func newChanView() *chanView {
	return &chanView{occ: map[string]int{}, sockets: map[Socket]socketMember{}, users: map[string]*userSockets{}}
}

func (v *chanView) empty() bool { return len(v.occ) == 0 && len(v.sockets) == 0 }

// setOcc records a node's count and reports a change of occupancy:
// +1 the channel became occupied, -1 it became vacant, 0 no change.
func (v *chanView) setOcc(node string, n int) int {
	before := v.total
	v.total += n - v.occ[node]
	if n > 0 {
		v.occ[node] = n
	} else {
		delete(v.occ, node)
	}
	switch {
	case before == 0 && v.total > 0:
		return 1
	case before > 0 && v.total == 0:
		return -1
	}
	return 0
}

// addSocket records a member key that joined at (unix ms); it reports
// whether the user is new.
func (v *chanView) addSocket(s Socket, m Member, at int64) bool {
	if old, ok := v.sockets[s]; ok {
		if old.userID == m.UserID {
			v.users[m.UserID].info = m.UserInfo
			return false
		}
		v.removeSocket(s)
	}
	v.sockets[s] = socketMember{userID: m.UserID, at: at}
	u := v.users[m.UserID]
	if u == nil {
		u = &userSockets{}
		v.users[m.UserID] = u
		v.order = append(v.order, m.UserID)
	}
	u.ats = append(u.ats, at)
	u.info = m.UserInfo
	return len(u.ats) == 1
}

// removeSocket forgets a member key; it returns the user id when that was
// the user's last socket on the channel.
func (v *chanView) removeSocket(s Socket) (string, bool) {
	m, ok := v.sockets[s]
	if !ok {
		return "", false
	}
	delete(v.sockets, s)
	u := v.users[m.userID]
	if i := slices.Index(u.ats, m.at); i >= 0 {
		u.ats = slices.Delete(u.ats, i, i+1)
	}
	if len(u.ats) > 0 {
		return "", false
	}
	delete(v.users, m.userID)
	for i, id := range v.order {
		if id == m.userID {
			v.order = append(v.order[:i], v.order[i+1:]...)
			break
		}
	}
	return m.userID, true
}

// members lists unique users in join order.
func (v *chanView) members() []Member {
	out := make([]Member, 0, len(v.order))
	for _, id := range v.order {
		out = append(out, Member{UserID: id, UserInfo: v.users[id].info})
	}
	return out
}

// Keys: m.{app}.{channel}.{node}.{socket} for members,
// o.{app}.{channel}.{node} for occupancy counts; every part is a token.
func memberKey(app, ch, node, sock string) string {
	return "m." + app + "." + ch + "." + node + "." + sock
}

func occKey(app, ch, node string) string { return "o." + app + "." + ch + "." + node }

func splitKey(k string) []string { return strings.Split(k, ".") }
