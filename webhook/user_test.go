package webhook

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/protocol"
)

// TestUserOnlineOffline: user_online and user_offline go to an endpoint that
// names them, without a channel; user_offline waits out the delay and is
// dropped if the user signed in again meanwhile (a page reload); a second
// online while the last reported state is online is suppressed; and a user
// reported online who is signed in nowhere when a node comes back gets its
// user_offline from Reconcile.
func TestUserOnlineOffline(t *testing.T) {
	connect := startNATS(t)
	rcv := newReceiver(t, testKey, testSecret)
	app := config.App{Key: testKey, Secret: testSecret, WebhookURL: rcv.srv.URL, WebhookEvents: []string{UserOnline, UserOffline}}
	st := newFakeState()
	d := newDispatcher(t, connect(), testOptions(t, apps(app), st))
	stop := run(t, d)

	st.setPresent(testKey, protocol.OnlineChannel, "u", true)
	enqueue(t, d, testKey, Event{Name: UserOnline, UserID: "u"}, "on1")
	waitFor(t, 5*time.Second, "user_online", func() bool { return len(rcv.received(t)) == 1 })
	var fields map[string]any
	if err := json.Unmarshal(rcv.requests()[0].body.Events[0], &fields); err != nil {
		t.Fatal(err)
	}
	if fields["name"] != UserOnline || fields["user_id"] != "u" || len(fields) != 3 || fields["seq"] != 1.0 {
		t.Fatalf("user_online event %v, want name, user_id and seq only", fields)
	}

	// A reload: offline while the user is signed in again by send time.
	enqueue(t, d, testKey, Event{Name: UserOffline, UserID: "u"}, "off1")
	enqueue(t, d, testKey, Event{Name: UserOnline, UserID: "u"}, "on2")
	waitFor(t, 5*time.Second, "the offline cancelled", func() bool { return d.Stats().Cancelled == 1 })
	waitFor(t, 5*time.Second, "the second online suppressed", func() bool { return d.Stats().Suppressed == 1 })

	// A real offline, after the delay.
	st.setPresent(testKey, protocol.OnlineChannel, "u", false)
	left := time.Now()
	enqueue(t, d, testKey, Event{Name: UserOffline, UserID: "u"}, "off2")
	waitFor(t, 5*time.Second, "user_offline", func() bool { return len(rcv.received(t)) == 2 })
	if got := rcv.received(t)[1]; got.Name != UserOffline || got.UserID != "u" || got.Channel != "" {
		t.Fatalf("second event %+v, want user_offline of u", got)
	}
	if d := time.Since(left); d < 300*time.Millisecond {
		t.Fatalf("user_offline after %s, want it held for the 300ms delay", d)
	}

	// v is reported online, then every node stops and v's keys expire.
	st.setPresent(testKey, protocol.OnlineChannel, "v", true)
	enqueue(t, d, testKey, Event{Name: UserOnline, UserID: "v"}, "on-v")
	waitFor(t, 5*time.Second, "user_online v", func() bool { return len(rcv.received(t)) == 3 })
	stop()
	st.setPresent(testKey, protocol.OnlineChannel, "v", false)
	d2 := newDispatcher(t, connect(), testOptions(t, apps(app), st))
	run(t, d2)
	if n, err := d2.Reconcile(t.Context()); err != nil || n != 1 {
		t.Fatalf("Reconcile: %d jobs, %v; want 1 (v's user_offline)", n, err)
	}
	waitFor(t, 5*time.Second, "user_offline v", func() bool { return len(rcv.received(t)) == 4 })
	if got := rcv.received(t)[3]; got.Name != UserOffline || got.UserID != "v" {
		t.Fatalf("after reconcile: %+v, want user_offline of v", got)
	}
}
