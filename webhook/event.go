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
)

// Event is one entry of a webhook body's "events" array (Pusher names).
type Event struct {
	Name              string `json:"name"` // channel_occupied, channel_vacated, member_added, member_removed, client_event, cache_miss, subscription_count
	Channel           string `json:"channel"`
	UserID            string `json:"user_id,omitempty"`
	Event             string `json:"event,omitempty"`     // client_event
	Data              string `json:"data,omitempty"`      // client_event
	SocketID          string `json:"socket_id,omitempty"` // client_event
	SubscriptionCount *int   `json:"subscription_count,omitempty"`
}

// delayed tells whether an event waits for the debounce delay before it is
// sent: an offline that is undone quickly (a page reload) is no offline.
func (e Event) delayed() bool {
	return e.Name == ChannelVacated || e.Name == MemberRemoved
}

// reportedState names the state an event announces, and whether the event
// takes part in reported-state suppression at all. Channel and member states
// are kept under different keys, so "present" never meets "occupied".
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
	}
	return "", false
}

// The reported states, as the state bucket keeps them.
const (
	stateOccupied = "occupied"
	stateVacated  = "vacated"
	statePresent  = "present"
	stateAbsent   = "absent"
)

// holds tells whether a reported state says something is there (rather
// than gone).
func holds(state string) bool {
	return state == stateOccupied || state == statePresent
}
