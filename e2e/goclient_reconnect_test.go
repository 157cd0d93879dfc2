package e2e

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/wasmclient"
)

func TestGoClientHeartbeat(t *testing.T) {
	s := startPushd(t, "")
	c := connectedGoClient(t, s, "app-key", "app-secret", func(o *wasmclient.Options) {
		o.ActivityTimeout = 150 * time.Millisecond
		o.PongTimeout = 300 * time.Millisecond
	})
	first := c.SocketID()
	// Idle for several activity periods: pings get pongs, the connection stays.
	time.Sleep(800 * time.Millisecond) // the idle period under test
	if c.SocketID() != first || c.tr.dialCount() != 1 {
		t.Fatalf("idle with pongs: socket %s (was %s), %d dials; want the same connection", c.SocketID(), first, c.tr.dialCount())
	}
	// Nothing arrives any more (a dead network): the client gives up after
	// the pong timeout and reconnects.
	c.tr.setDeaf(true)
	c.waitState(wasmclient.StateDisconnected, 3*time.Second)
	c.tr.setDeaf(false)
	c.waitState(wasmclient.StateConnected, 5*time.Second)
	if c.SocketID() == first {
		t.Fatalf("after missing pong: same socket %s, want a new connection", first)
	}
}

func TestGoClientServerPingsIdleClient(t *testing.T) {
	s := startPushd(t, "")
	// small-key has activity_timeout 1 s and the server's pong_timeout is
	// 2 s: a client that answers pusher:ping stays connected.
	c := connectedGoClient(t, s, "small-key", "small-secret", func(o *wasmclient.Options) { o.ActivityTimeout = time.Hour })
	first := c.SocketID()
	time.Sleep(3500 * time.Millisecond) // longer than activity_timeout + pong_timeout
	if c.SocketID() != first || c.tr.dialCount() != 1 {
		t.Fatalf("after server pings: socket %s (was %s), %d dials; want the same connection", c.SocketID(), first, c.tr.dialCount())
	}
}

func TestGoClientReconnectAfterServerRestart(t *testing.T) {
	s := startPushd(t, "")
	c := connectedGoClient(t, s, "app-key", "app-secret", nil)
	ch := c.subscribe("restart-news")
	pres := c.subscribe("presence-restart")
	got := record(ch.Bind, "n")
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"n","channel":"restart-news","data":"before"}`)
	if e := nextEvent(t, got, "event before restart"); e.Data != "before" {
		t.Fatalf("before restart: got %+v", e)
	}
	first := c.SocketID()
	s.restart(t)
	c.waitState(wasmclient.StateConnected, 20*time.Second)
	waitFor(t, "resubscription after restart", func() bool { return ch.Subscribed() && pres.Subscribed() })
	if c.SocketID() == first {
		t.Fatalf("after restart: same socket id %s", first)
	}
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"n","channel":"restart-news","data":"after"}`)
	if e := nextEvent(t, got, "event after restart"); e.Data != "after" {
		t.Fatalf("after restart: got %+v, want after (and no replay of before)", e)
	}
	if n := pres.MemberCount(); n != 1 {
		t.Fatalf("presence after restart: %d members, want 1", n)
	}
	noEvent(t, got, 200*time.Millisecond)
}

// TestGoClientResumeNoLoss cuts the client off while 500 events are
// triggered (some excluding the client's socket); after reconnecting it
// must see each of the others once, in order, then live events.
func TestGoClientResumeNoLoss(t *testing.T) {
	s := startPushd(t, "")
	c := connectedGoClient(t, s, "app-key", "app-secret", nil)
	ch := c.subscribe("resume-feed")
	got := record(ch.Bind, "n")
	failed := record(ch.Bind, "pusher:recovery_failed")
	send := func(data []string, exclude string) {
		for len(data) > 0 {
			n := min(10, len(data))
			var batch []map[string]string
			for _, d := range data[:n] {
				ev := map[string]string{"channel": "resume-feed", "name": "n", "data": d}
				if exclude != "" {
					ev["socket_id"] = exclude
				}
				batch = append(batch, ev)
			}
			body, _ := json.Marshal(map[string]any{"batch": batch})
			trigger(t, s, "app-key", "app-secret", "/apps/1/batch_events", string(body))
			data = data[n:]
		}
	}
	send([]string{"0"}, "")
	nextEvent(t, got, "first event")
	old := c.SocketID()

	c.tr.cut()
	c.waitState(wasmclient.StateDisconnected, 5*time.Second)
	var want []string
	for i := 1; i <= 500; i++ {
		d := strconv.Itoa(i)
		if i%50 == 0 {
			send([]string{d}, old) // the client's own action: must not come back
			continue
		}
		send([]string{d}, "")
		want = append(want, d)
	}
	c.tr.reopen()
	c.waitState(wasmclient.StateConnected, 10*time.Second)
	send([]string{"live"}, "")
	want = append(want, "live")

	var prev uint64
	var seen []string
	for range want {
		e := nextEvent(t, got, "resumed event "+strconv.Itoa(len(seen)+1))
		if e.Seq <= prev {
			t.Fatalf("event %q seq %d after %d: out of order or doubled", e.Data, e.Seq, prev)
		}
		prev = e.Seq
		seen = append(seen, e.Data)
	}
	if strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Fatalf("after resume:\n got %v\nwant %v", seen, want)
	}
	noEvent(t, got, 300*time.Millisecond)
	noEvent(t, failed, 0)
}

func TestGoClientRecoveryFailed(t *testing.T) {
	s := startPushd(t, "")
	c := connectedGoClient(t, s, "small-key", "small-secret", nil)
	ch := c.subscribe("old-feed")
	got := record(ch.Bind, "n")
	failed := record(ch.Bind, "pusher:recovery_failed")
	trigger(t, s, "small-key", "small-secret", "/apps/5/events", `{"name":"n","channel":"old-feed","data":"first"}`)
	nextEvent(t, got, "first event")
	c.tr.cut()
	c.waitState(wasmclient.StateDisconnected, 5*time.Second)
	// small-key keeps 4 KiB of history: 100 events push the missed ones out.
	for i := 0; i < 100; i++ {
		trigger(t, s, "small-key", "small-secret", "/apps/5/events", `{"name":"x","channel":"filler","data":"0123456789012345678901234567890123456789"}`)
	}
	trigger(t, s, "small-key", "small-secret", "/apps/5/events", `{"name":"n","channel":"old-feed","data":"missed"}`)
	for i := 0; i < 100; i++ {
		trigger(t, s, "small-key", "small-secret", "/apps/5/events", `{"name":"x","channel":"filler","data":"0123456789012345678901234567890123456789"}`)
	}
	c.tr.reopen()
	if e := nextEvent(t, failed, "pusher:recovery_failed"); e.Channel != "old-feed" {
		t.Fatalf("recovery_failed: got %+v", e)
	}
	trigger(t, s, "small-key", "small-secret", "/apps/5/events", `{"name":"n","channel":"old-feed","data":"live"}`)
	if e := nextEvent(t, got, "live event"); e.Data != "live" {
		t.Fatalf("after recovery_failed: got %+v, want live", e)
	}
}

// TestGoClientStoreReset (issue 13 #9): after the event store was wiped the
// client's position belongs to a stream that is gone. The resume answers
// recovery_failed instead of replaying whatever the new stream holds past
// the old number (70 events here), the client takes the position the
// failure carries, and its next resume, before any new event, replays
// exactly what it missed.
func TestGoClientStoreReset(t *testing.T) {
	s := startPushd(t, "")
	c := connectedGoClient(t, s, "app-key", "app-secret", nil)
	ch := c.subscribe("reset-feed")
	got := record(ch.Bind, "n")
	failed := record(ch.Bind, "pusher:recovery_failed")
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"n","channel":"reset-feed","data":"before"}`)
	nextEvent(t, got, "event before the reset")

	c.tr.cut()
	c.waitState(wasmclient.StateDisconnected, 5*time.Second)
	s.resetStore(t)
	for i := range 70 {
		trigger(t, s, "app-key", "app-secret", "/apps/1/events", fmt.Sprintf(`{"name":"n","channel":"reset-feed","data":"%d"}`, i))
	}
	c.tr.reopen()
	e := nextEvent(t, failed, "pusher:recovery_failed after the reset")
	if e.Channel != "reset-feed" || e.Seq == 0 || ch.LastSeq() != e.Seq {
		t.Fatalf("recovery_failed %+v, channel position %d: want the server's position taken", e, ch.LastSeq())
	}

	c.tr.cut()
	c.waitState(wasmclient.StateDisconnected, 5*time.Second)
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"n","channel":"reset-feed","data":"missed"}`)
	c.tr.reopen()
	if e := nextEvent(t, got, "event missed after the recovery"); e.Data != "missed" {
		t.Fatalf("after the second resume: got %+v, want missed", e)
	}
	noEvent(t, failed, 300*time.Millisecond)
}
