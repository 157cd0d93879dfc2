package console

import (
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/pushd/pushd/presence"
)

// watchers are the streams open on this node, by app; as a
// presence.Listener they offer each of them the transitions of its app.
// While none is open, a transition costs a map read.
type watchers struct {
	mu sync.RWMutex
	m  map[string][]*stream
}

func (w *watchers) add(app string, s *stream) {
	w.mu.Lock()
	w.m[app] = append(w.m[app], s)
	w.mu.Unlock()
}

func (w *watchers) remove(app string, s *stream) {
	w.mu.Lock()
	defer w.mu.Unlock()
	list := slices.DeleteFunc(w.m[app], func(x *stream) bool { return x == s })
	if len(list) == 0 {
		delete(w.m, app)
		return
	}
	w.m[app] = list
}

// presenceEntry is a presence transition as the page shows it.
type presenceEntry struct {
	Type     string `json:"type"` // occupied, vacated, member_added, member_removed
	Channel  string `json:"channel"`
	UserID   string `json:"user_id,omitempty"`
	SocketID string `json:"socket_id,omitempty"` // the socket that joined
	Internal bool   `json:"internal,omitempty"`
	TimeMS   int64  `json:"time_ms"`
}

// tell offers e to the app's streams, encoded once.
func (w *watchers) tell(app string, e presenceEntry) {
	w.mu.RLock()
	list := w.m[app]
	w.mu.RUnlock()
	if len(list) == 0 {
		return
	}
	e.Internal, e.TimeMS = internal(e.Channel), time.Now().UnixMilli()
	var b []byte
	build := func() []byte {
		if b == nil {
			b, _ = json.Marshal(e)
		}
		return b
	}
	for _, s := range list {
		s.offer(kindActivity, []string{e.Channel}, build)
	}
}

// MemberAdded offers a member's arrival.
func (w *watchers) MemberAdded(app, channel string, m presence.Member, by presence.Socket, _ uint64) {
	w.tell(app, presenceEntry{Type: "member_added", Channel: channel, UserID: m.UserID, SocketID: by.ID})
}

// MemberRemoved offers a member's departure.
func (w *watchers) MemberRemoved(app, channel, userID string, _ uint64) {
	w.tell(app, presenceEntry{Type: "member_removed", Channel: channel, UserID: userID})
}

// Occupied offers a channel's first subscriber.
func (w *watchers) Occupied(app, channel string, _ uint64) {
	w.tell(app, presenceEntry{Type: "occupied", Channel: channel})
}

// Vacated offers a channel's last subscriber leaving.
func (w *watchers) Vacated(app, channel string, _ uint64) {
	w.tell(app, presenceEntry{Type: "vacated", Channel: channel})
}

// CountChanged is not shown: the channels view has the counts.
func (w *watchers) CountChanged(string, string, int, uint64) {}
