package wasmclient

import (
	"sort"
	"strings"
	"sync"

	"github.com/pushd/pushd/gateway/protocol"
)

// Channel is one subscription of a Client. It outlives reconnects: the
// client subscribes it again, resuming after the last event it saw.
type Channel struct {
	c    *Client
	name string
	kind protocol.Kind

	// guarded by c.mu
	subscribed bool
	lastSeq    uint64
	bindings   bindings
	queue      [][]byte // client events waiting for subscription_succeeded
	key        *[32]byte
	members    map[string]string // presence: user id -> user_info JSON
	me         string
}

func (ch *Channel) mu() *sync.Mutex { return &ch.c.mu }

// Name returns the channel's name.
func (ch *Channel) Name() string { return ch.name }

// Subscribed reports whether the server confirmed the subscription on the
// current connection.
func (ch *Channel) Subscribed() bool {
	ch.mu().Lock()
	defer ch.mu().Unlock()
	return ch.subscribed
}

// LastSeq returns the stream position of the last event received, which the
// client resumes from after a reconnect.
func (ch *Channel) LastSeq() uint64 {
	ch.mu().Lock()
	defer ch.mu().Unlock()
	return ch.lastSeq
}

// Bind calls fn for every event named event on this channel ("" for all of
// them), including pusher:subscription_succeeded, pusher:subscription_error,
// pusher:recovery_failed, pusher:cache_miss and pusher:member_added/removed.
func (ch *Channel) Bind(event string, fn Handler) Binding {
	ch.mu().Lock()
	defer ch.mu().Unlock()
	return ch.bindings.add(event, fn)
}

// Unbind removes the given handlers, or all of event when none are given
// ("" and none: every handler of the channel).
func (ch *Channel) Unbind(event string, ids ...Binding) {
	ch.mu().Lock()
	defer ch.mu().Unlock()
	ch.bindings.remove(event, ids)
}

// Trigger sends a client event to the channel's other subscribers. dataJSON
// is the event's data as JSON text. Before the subscription is confirmed
// the event is queued and sent right after, as push.js does.
func (ch *Channel) Trigger(event, dataJSON string) error {
	if !strings.HasPrefix(event, "client-") {
		return ErrNotClientEvent
	}
	switch {
	case ch.kind == protocol.Encrypted:
		return ErrEncryptedTrigger
	case !ch.kind.AllowsClientEvents():
		return ErrPublicChannel
	}
	if dataJSON == "" {
		dataJSON = "{}"
	}
	frame := protocol.ClientEventFrame(event, ch.name, dataJSON)
	ch.mu().Lock()
	s := ch.c.sess
	if !ch.subscribed || s == nil {
		if len(ch.queue) < maxQueued {
			ch.queue = append(ch.queue, frame)
		}
		ch.mu().Unlock()
		return nil
	}
	ch.mu().Unlock()
	return s.send(frame)
}

// maxQueued bounds the client events queued per channel while not subscribed.
const maxQueued = 100

// Member is one user of a presence channel.
type Member struct {
	ID   string
	Info string // user_info as JSON text ("" when none)
}

// Members returns the presence channel's members sorted by id.
func (ch *Channel) Members() []Member {
	ch.mu().Lock()
	defer ch.mu().Unlock()
	out := make([]Member, 0, len(ch.members))
	for id, info := range ch.members {
		out = append(out, Member{id, info})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// MemberCount returns the number of users on the presence channel.
func (ch *Channel) MemberCount() int {
	ch.mu().Lock()
	defer ch.mu().Unlock()
	return len(ch.members)
}

// Member returns one member of the presence channel.
func (ch *Channel) Member(id string) (Member, bool) {
	ch.mu().Lock()
	defer ch.mu().Unlock()
	info, ok := ch.members[id]
	return Member{id, info}, ok
}

// Me returns this client's own member of the presence channel.
func (ch *Channel) Me() (Member, bool) {
	ch.mu().Lock()
	defer ch.mu().Unlock()
	if ch.me == "" {
		return Member{}, false
	}
	return Member{ch.me, ch.members[ch.me]}, true
}
