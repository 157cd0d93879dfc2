package webhook

import (
	"strings"

	"github.com/pushd/pushd/bus"
)

// token turns a user-supplied string into one KV key token.
func token(s string) string { return bus.EncodeToken(s) }

// stateKey is the reported-state key of an event: per (app, channel) for
// occupied/vacated, per (app, channel, user) for added/removed and per
// (app, user) for online/offline.
func stateKey(app string, ev Event) string {
	switch {
	case ev.Name == MemberAdded || ev.Name == MemberRemoved:
		return "m." + token(app) + "." + token(ev.Channel) + "." + token(ev.UserID)
	case ev.userEvent():
		return "u." + token(app) + "." + token(ev.UserID)
	}
	return "c." + token(app) + "." + token(ev.Channel)
}

// Kinds of state keys.
const (
	keyChannel = 'c'
	keyMember  = 'm'
	keyUser    = 'u'
)

// stateName is what a state key names: its kind, app, channel and user.
type stateName struct {
	kind         byte // keyChannel, keyMember or keyUser
	app, channel string
	user         string
}

// parseStateKey is the inverse of stateKey.
func parseStateKey(key string) (stateName, bool) {
	parts := strings.Split(key, ".")
	dec := make([]string, len(parts))
	for i := 1; i < len(parts); i++ {
		s, err := bus.DecodeToken(parts[i])
		if err != nil {
			return stateName{}, false
		}
		dec[i] = s
	}
	switch {
	case parts[0] == "c" && len(parts) == 3:
		return stateName{kind: keyChannel, app: dec[1], channel: dec[2]}, true
	case parts[0] == "m" && len(parts) == 4:
		return stateName{kind: keyMember, app: dec[1], channel: dec[2], user: dec[3]}, true
	case parts[0] == "u" && len(parts) == 3:
		return stateName{kind: keyUser, app: dec[1], user: dec[2]}, true
	}
	return stateName{}, false
}
