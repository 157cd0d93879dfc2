package webhook

import "github.com/pushd/pushd/bus"

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
