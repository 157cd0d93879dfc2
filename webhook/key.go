package webhook

import (
	"strings"

	"github.com/pushd/pushd/bus"
)

// token turns a user-supplied string into one KV key token.
func token(s string) string { return bus.EncodeToken(s) }

// stateKey is the reported-state key of an event: per (app, channel) for
// occupied/vacated and per (app, channel, user) for added/removed.
func stateKey(app string, ev Event) string {
	if ev.Name == MemberAdded || ev.Name == MemberRemoved {
		return "m." + token(app) + "." + token(ev.Channel) + "." + token(ev.UserID)
	}
	return "c." + token(app) + "." + token(ev.Channel)
}

// parseStateKey is the inverse of stateKey: the app, channel and (for a
// member key) user it names, and whether it is a member key.
func parseStateKey(key string) (app, channel, user string, member, ok bool) {
	parts := strings.Split(key, ".")
	dec := make([]string, len(parts))
	for i := 1; i < len(parts); i++ {
		s, err := bus.DecodeToken(parts[i])
		if err != nil {
			return "", "", "", false, false
		}
		dec[i] = s
	}
	switch {
	case parts[0] == "c" && len(parts) == 3:
		return dec[1], dec[2], "", false, true
	case parts[0] == "m" && len(parts) == 4:
		return dec[1], dec[2], dec[3], true, true
	}
	return "", "", "", false, false
}
