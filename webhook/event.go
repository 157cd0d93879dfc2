package webhook

// Pusher webhook event names.
const (
	ChannelOccupied   = "channel_occupied"
	ChannelVacated    = "channel_vacated"
	MemberAdded       = "member_added"
	MemberRemoved     = "member_removed"
	ClientEvent       = "client_event"
	CacheMiss         = "cache_miss"
	SubscriptionCount = "subscription_count"
	// UserOnline and UserOffline are Pushd's: a signed-in user's first
	// connection in the cluster opened, its last one closed. Opt-in, as
	// subscription_count: sent only to endpoints whose filter names them.
	UserOnline  = "user_online"
	UserOffline = "user_offline"
)

// Event is one entry of a webhook body's "events" array (Pusher names).
type Event struct {
	Name              string `json:"name"`              // channel_occupied, channel_vacated, member_added, member_removed, client_event, cache_miss, subscription_count, user_online, user_offline
	Channel           string `json:"channel,omitempty"` // every event but user_online and user_offline
	UserID            string `json:"user_id,omitempty"`
	Event             string `json:"event,omitempty"`     // client_event
	Data              string `json:"data,omitempty"`      // client_event
	SocketID          string `json:"socket_id,omitempty"` // client_event
	SubscriptionCount *int   `json:"subscription_count,omitempty"`
}

// delayed tells whether an event waits for the debounce delay before it is
// sent: an offline that is undone quickly (a page reload) is no offline.
func (e Event) delayed() bool {
	return e.Name == ChannelVacated || e.Name == MemberRemoved || e.Name == UserOffline
}

// userEvent tells whether an event is about a user rather than a channel.
func (e Event) userEvent() bool { return e.Name == UserOnline || e.Name == UserOffline }

// complete tells whether an event names what it is about: a user for a
// user event, a channel for every other.
func (e Event) complete() bool {
	if e.userEvent() {
		return e.UserID != ""
	}
	return e.Name != "" && e.Channel != ""
}

// reportedState names the state an event announces, and whether the event
// takes part in reported-state suppression at all. Channel, member and user
// states are kept under different keys, so "present" never meets "occupied".
func (e Event) reportedState() (string, bool) {
	switch e.Name {
	case ChannelOccupied:
		return stateOccupied, true
	case ChannelVacated:
		return stateVacated, true
	case MemberAdded:
		return statePresent, true
	case MemberRemoved:
		return stateAbsent, true
	case UserOnline:
		return stateOnline, true
	case UserOffline:
		return stateOffline, true
	}
	return "", false
}

// The reported states, as the state bucket keeps them.
const (
	stateOccupied = "occupied"
	stateVacated  = "vacated"
	statePresent  = "present"
	stateAbsent   = "absent"
	stateOnline   = "online"
	stateOffline  = "offline"
)

// holds tells whether a reported state says something is there (rather
// than gone).
func holds(state string) bool {
	return state == stateOccupied || state == statePresent || state == stateOnline
}
