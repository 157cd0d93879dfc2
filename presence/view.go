package presence

import (
	"encoding/json"
	"strings"
)

// Member is one user on a presence channel.
type Member struct {
	UserID   string          `json:"user_id"`
	UserInfo json.RawMessage `json:"user_info,omitempty"`
}

// Socket names the connection that owns a member key.
type Socket struct{ Node, ID string }

// chanKey names a channel of an app.
type chanKey struct{ app, channel string }

// chanView is what the bucket says about one channel, across all nodes.
type chanView struct {
	occ     map[string]int          // node -> local subscriber count
	total   int                     // sum of occ
	sockets map[Socket]Member       // presence member keys
	users   map[string]*userSockets // user id -> its sockets
	order   []string                // user ids in join order (for stable lists)
}

type userSockets struct {
	n    int
	info json.RawMessage
}

func newChanView() *chanView {
	return &chanView{occ: map[string]int{}, sockets: map[Socket]Member{}, users: map[string]*userSockets{}}
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

// addSocket records a member key; it reports whether the user is new.
func (v *chanView) addSocket(s Socket, m Member) bool {
	if old, ok := v.sockets[s]; ok {
		if old.UserID == m.UserID {
			v.sockets[s] = m
			v.users[m.UserID].info = m.UserInfo
			return false
		}
		v.removeSocket(s)
	}
	v.sockets[s] = m
	u := v.users[m.UserID]
	if u == nil {
		u = &userSockets{}
		v.users[m.UserID] = u
		v.order = append(v.order, m.UserID)
	}
	u.n++
	u.info = m.UserInfo
	return u.n == 1
}

// removeSocket forgets a member key; it returns the user id when that was
// the user's last socket on the channel.
func (v *chanView) removeSocket(s Socket) (string, bool) {
	m, ok := v.sockets[s]
	if !ok {
		return "", false
	}
	delete(v.sockets, s)
	u := v.users[m.UserID]
	u.n--
	if u.n > 0 {
		return "", false
	}
	delete(v.users, m.UserID)
	for i, id := range v.order {
		if id == m.UserID {
			v.order = append(v.order[:i], v.order[i+1:]...)
			break
		}
	}
	return m.UserID, true
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
