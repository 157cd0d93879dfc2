package webhook

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pushd/pushd/config"
)

// TestKeepStates: the states that say a channel is occupied or a member
// present are written again (same value, new revision) so that they outlive
// the bucket's TTL; a vacated channel's state is not, nor a state of an app
// no longer configured, nor a state younger than the age asked.
func TestKeepStates(t *testing.T) {
	connect := startNATS(t)
	rcv := newReceiver(t, testKey, testSecret)
	app := config.App{Key: testKey, Secret: testSecret, WebhookURL: rcv.srv.URL}
	d := newDispatcher(t, connect(), testOptions(t, apps(app), newFakeState()))
	run(t, d)
	enqueue(t, d, testKey, Event{Name: ChannelOccupied, Channel: "held"}, "o1")
	enqueue(t, d, testKey, Event{Name: ChannelOccupied, Channel: "gone"}, "o2")
	enqueue(t, d, testKey, Event{Name: MemberAdded, Channel: "presence-p", UserID: "u"}, "a1")
	waitFor(t, 5*time.Second, "three reported", func() bool { return len(rcv.received(t)) == 3 })
	enqueue(t, d, testKey, Event{Name: ChannelVacated, Channel: "gone"}, "v2")
	waitFor(t, 5*time.Second, "vacated reported", func() bool { return len(rcv.received(t)) == 4 })
	ctx := t.Context()
	unconfigured, _ := json.Marshal(reported{State: stateOccupied, Done: true})
	if _, err := d.kv.Put(ctx, stateKey("removed-app", Event{Name: ChannelOccupied, Channel: "x"}), unconfigured); err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{
		"held":   stateKey(testKey, Event{Name: ChannelOccupied, Channel: "held"}),
		"gone":   stateKey(testKey, Event{Name: ChannelVacated, Channel: "gone"}),
		"member": stateKey(testKey, Event{Name: MemberAdded, Channel: "presence-p", UserID: "u"}),
		"other":  stateKey("removed-app", Event{Name: ChannelOccupied, Channel: "x"}),
	}
	revs := func() map[string]uint64 {
		out := map[string]uint64{}
		for name, k := range keys {
			e, err := d.kv.Get(ctx, k)
			if err != nil {
				t.Fatalf("state %s: %v", k, err)
			}
			out[name] = e.Revision()
		}
		return out
	}
	// A delivery is recorded (Done) just after the receiver's 200: wait for
	// every record, or a late one would count as a rewrite below.
	waitFor(t, 5*time.Second, "deliveries recorded", func() bool {
		for _, k := range keys {
			e, err := d.kv.Get(ctx, k)
			var r reported
			if err != nil || json.Unmarshal(e.Value(), &r) != nil || !r.Done {
				return false
			}
		}
		return true
	})
	before := revs()
	if n, err := keepStates(ctx, d.kv, d.opts.Apps, time.Hour); err != nil || n != 0 {
		t.Fatalf("keepStates of fresh states: %d, %v; want none", n, err)
	}
	if n, err := keepStates(ctx, d.kv, d.opts.Apps, 0); err != nil || n != 2 {
		t.Fatalf("keepStates: %d, %v; want 2 (held, member)", n, err)
	}
	after := revs()
	for name, want := range map[string]bool{"held": true, "member": true, "gone": false, "other": false} {
		if kept := after[name] != before[name]; kept != want {
			t.Errorf("%s: rewritten %v, want %v", name, kept, want)
		}
	}
	e, err := d.kv.Get(ctx, keys["held"])
	if err != nil {
		t.Fatal(err)
	}
	var r reported
	if err := json.Unmarshal(e.Value(), &r); err != nil || r.State != stateOccupied || !r.Done {
		t.Fatalf("kept state %s, want it unchanged (occupied, done)", e.Value())
	}
}
