package webhook

import (
	"testing"
	"time"

	"github.com/pushd/pushd/config"
)

// TestReportDecides: Report's decision, the only one in the project, for
// each kind of change and app.
func TestReportDecides(t *testing.T) {
	d := &Dispatcher{}
	hook := config.App{Key: "k", WebhookURL: "http://127.0.0.1/h"}
	occupiedOnly := hook
	occupiedOnly.WebhookEvents = []string{ChannelOccupied}
	webmanRemoved := config.App{Key: "k", Compat: config.CompatWebman, UserHookURL: "http://127.0.0.1/u", WebhookEvents: []string{"user_removed"}}
	counting := hook
	counting.WebhookEvents = []string{SubscriptionCount}
	online := hook
	online.WebhookEvents = []string{UserOnline}
	webmanAll := config.App{Key: "k", WebhookNames: config.CompatWebman, WebhookURL: "http://127.0.0.1/w", WebhookEvents: []string{UserOnline, UserOffline}}
	n := func(v int) *int { return &v }
	cases := []struct {
		name string
		app  config.App
		ev   Event
		want bool
	}{
		{"no URL", config.App{Key: "k"}, Event{Name: ChannelOccupied, Channel: "c"}, false},
		{"occupied", hook, Event{Name: ChannelOccupied, Channel: "c"}, true},
		{"filtered client event", occupiedOnly, Event{Name: ClientEvent, Channel: "private-c"}, false},
		{"vacated kept for the state of an occupied-only filter", occupiedOnly, Event{Name: ChannelVacated, Channel: "c"}, true},
		{"member_removed by webman name", webmanRemoved, Event{Name: MemberRemoved, Channel: "presence-c", UserID: "1"}, true},
		{"member_added kept for the state of a removed-only filter", webmanRemoved, Event{Name: MemberAdded, Channel: "presence-c", UserID: "1"}, true},
		{"count without counting", hook, Event{Name: SubscriptionCount, Channel: "c", SubscriptionCount: n(2)}, false},
		{"count asked for", counting, Event{Name: SubscriptionCount, Channel: "c", SubscriptionCount: n(2)}, true},
		{"count of a presence channel", counting, Event{Name: SubscriptionCount, Channel: "presence-c", SubscriptionCount: n(2)}, false},
		{"user_online not asked for", hook, Event{Name: UserOnline, UserID: "u"}, false},
		{"user_offline not asked for", hook, Event{Name: UserOffline, UserID: "u"}, false},
		{"user_online asked for", online, Event{Name: UserOnline, UserID: "u"}, true},
		{"user_offline kept for the state of an online-only filter", online, Event{Name: UserOffline, UserID: "u"}, true},
		{"user events to webman naming", webmanAll, Event{Name: UserOnline, UserID: "u"}, false},
	}
	for _, tc := range cases {
		if got := d.wants(tc.app, tc.ev); got != tc.want {
			t.Errorf("%s: wants %v, want %v", tc.name, got, tc.want)
		}
	}
	// A user event needs a user; a channel on it changes nothing, and
	// '#online' itself is never reported as a channel.
	d.opts.Apps = apps(online)
	d.queue.ch = make(chan report, 8)
	d.Report("k", Event{Name: UserOnline}, "")
	d.Report("k", Event{Name: MemberAdded, Channel: "#online", UserID: "u"}, "")
	if len(d.queue.ch) != 0 {
		t.Errorf("%d reports queued, want none (no user; an internal channel)", len(d.queue.ch))
	}
	d.Report("k", Event{Name: UserOnline, UserID: "u"}, "")
	if len(d.queue.ch) != 1 {
		t.Errorf("user_online with a user: %d reports queued, want 1", len(d.queue.ch))
	}
	// A large channel reports its count at most every 5 s.
	if !d.wants(counting, Event{Name: SubscriptionCount, Channel: "big", SubscriptionCount: n(101)}) ||
		d.wants(counting, Event{Name: SubscriptionCount, Channel: "big", SubscriptionCount: n(102)}) {
		t.Error("a large channel's second count within 5 s was not held back")
	}
	if !d.wants(counting, Event{Name: SubscriptionCount, Channel: "big", SubscriptionCount: n(0)}) {
		t.Error("a channel's count of 0 was held back")
	}
}

// TestReportNeverBlocks: with JetStream unreachable, Report returns at once
// (it used to wait up to 10 s a call on the caller's socket read loop); a
// full queue drops new reports and counts them.
func TestReportNeverBlocks(t *testing.T) {
	js := startNATS(t)()
	app := config.App{Key: "k", Secret: "s", WebhookURL: "http://127.0.0.1:1/h"}
	opts := testOptions(t, apps(app), nil)
	opts.QueueSize = 8
	d := newDispatcher(t, js, opts)
	js.Conn().Close() // and no Run: nothing takes reports off the queue
	done := make(chan struct{})
	go func() {
		for i := 0; i < 100; i++ {
			d.Report("k", Event{Name: ClientEvent, Channel: "private-c", Event: "client-x"}, "")
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("100 Reports with JetStream unreachable did not return within 5 s")
	}
	st := d.Stats()
	if st.QueueDropped != 92 || st.Queued != 8 {
		t.Fatalf("after 100 reports into a queue of 8: %d queued, %d dropped", st.Queued, st.QueueDropped)
	}
}

// TestReportStored: reports made before Run are stored and sent once it
// runs, through the same path as every job.
func TestReportStored(t *testing.T) {
	js := startNATS(t)()
	rcv := newReceiver(t, "k", "s")
	app := config.App{Key: "k", Secret: "s", WebhookURL: rcv.srv.URL}
	d := newDispatcher(t, js, testOptions(t, apps(app), nil))
	for i, ev := range []string{"client-a", "client-b", "client-c"} {
		d.Report("k", Event{Name: ClientEvent, Channel: "private-c", Event: ev}, "client/"+string(rune('0'+i)))
	}
	d.Report("k", Event{Name: ClientEvent, Channel: "private-c", Event: "client-a"}, "client/0") // a duplicate id
	run(t, d)
	waitFor(t, 10*time.Second, "3 client events", func() bool { return len(rcv.received(t)) >= 3 })
	time.Sleep(200 * time.Millisecond) // a duplicate would be sent in the same batches
	if got := rcv.received(t); len(got) != 3 {
		t.Fatalf("received %v, want the 3 distinct client events once", names(got))
	}
}
