package webhook

import (
	"slices"
	"testing"
	"time"

	"github.com/pushd/pushd/config"
)

// TestReconcileReportsWhatExpiredUnwatched: a channel and a member reported
// occupied/present whose keys expired while no node ran get channel_vacated
// and member_removed when a node comes back and reconciles; what is still
// occupied gets nothing, and a second reconcile finds nothing left to do.
func TestReconcileReportsWhatExpiredUnwatched(t *testing.T) {
	connect := startNATS(t)
	rcv := newReceiver(t, testKey, testSecret)
	app := config.App{Key: testKey, Secret: testSecret, WebhookURL: rcv.srv.URL}
	st := newFakeState()
	d := newDispatcher(t, connect(), testOptions(t, apps(app), st))
	stop := run(t, d)

	st.setOccupied(testKey, "c", true)
	st.setOccupied(testKey, "still", true)
	st.setPresent(testKey, "presence-p", "u", true)
	enqueue(t, d, testKey, Event{Name: ChannelOccupied, Channel: "c"}, "o1")
	enqueue(t, d, testKey, Event{Name: ChannelOccupied, Channel: "still"}, "o2")
	enqueue(t, d, testKey, Event{Name: MemberAdded, Channel: "presence-p", UserID: "u"}, "a1")
	waitFor(t, 5*time.Second, "the three reported", func() bool { return len(rcv.received(t)) == 3 })

	// Every node goes down; meanwhile c's and u's keys expire.
	stop()
	st.setOccupied(testKey, "c", false)
	st.setPresent(testKey, "presence-p", "u", false)

	// A node comes back (a new connection, a new dispatcher) and reconciles.
	d2 := newDispatcher(t, connect(), testOptions(t, apps(app), st))
	run(t, d2)
	n, err := d2.Reconcile(t.Context())
	if err != nil || n != 2 {
		t.Fatalf("Reconcile: %d jobs, %v; want 2", n, err)
	}
	waitFor(t, 5*time.Second, "vacated and removed", func() bool { return len(rcv.received(t)) == 5 })
	got := names(rcv.received(t)[3:])
	slices.Sort(got)
	if want := []string{ChannelVacated, MemberRemoved}; !slices.Equal(got, want) {
		t.Fatalf("after reconcile: %v, want %v", got, want)
	}
	for _, ev := range rcv.received(t)[3:] {
		if ev.Channel == "still" {
			t.Fatalf("%s for a channel that is still occupied", ev.Name)
		}
	}
	if n, err := d2.Reconcile(t.Context()); err != nil || n != 0 {
		t.Fatalf("second Reconcile: %d jobs, %v; want none", n, err)
	}
}
