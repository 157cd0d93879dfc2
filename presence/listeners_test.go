package presence

import "testing"

// TestListenersTellEach: every transition reaches each listener, in the
// listeners' order.
func TestListenersTellEach(t *testing.T) {
	a, b := make(recorder, 8), make(recorder, 8)
	ls := Listeners{a, b}
	ls.MemberAdded("k", "presence-c", Member{UserID: "u"}, Socket{Node: "n", ID: "1.1"}, 1)
	ls.Occupied("k", "c", 2)
	ls.Vacated("k", "c", 3)
	ls.MemberRemoved("k", "presence-c", "u", 4)
	for _, r := range []recorder{a, b} {
		r.want(t, "added k presence-c u by n/1.1", "occupied k c", "vacated k c", "removed k presence-c u")
	}
}
