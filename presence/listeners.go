package presence

// Listeners is a Listener that tells each of its listeners of every
// transition, in order (the gateway's reactions, then the console's feed).
type Listeners []Listener

// MemberAdded tells each listener.
func (ls Listeners) MemberAdded(app, channel string, m Member, by Socket, rev uint64) {
	for _, l := range ls {
		l.MemberAdded(app, channel, m, by, rev)
	}
}

// MemberRemoved tells each listener.
func (ls Listeners) MemberRemoved(app, channel, userID string, rev uint64) {
	for _, l := range ls {
		l.MemberRemoved(app, channel, userID, rev)
	}
}

// Occupied tells each listener.
func (ls Listeners) Occupied(app, channel string, rev uint64) {
	for _, l := range ls {
		l.Occupied(app, channel, rev)
	}
}

// Vacated tells each listener.
func (ls Listeners) Vacated(app, channel string, rev uint64) {
	for _, l := range ls {
		l.Vacated(app, channel, rev)
	}
}

// CountChanged tells each listener.
func (ls Listeners) CountChanged(app, channel string, count int, rev uint64) {
	for _, l := range ls {
		l.CountChanged(app, channel, count, rev)
	}
}
