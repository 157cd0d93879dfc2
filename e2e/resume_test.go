package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
)

// seqOf reads the "seq" field Pushd adds to stored events.
func seqOf(t *testing.T, f frame) uint64 {
	t.Helper()
	var d struct {
		Seq uint64 `json:"seq"`
	}
	if err := json.Unmarshal(f.raw, &d); err != nil || d.Seq == 0 {
		t.Fatalf("frame %s has no seq", f.raw)
	}
	return d.Seq
}

func subscribeResume(c *rawClient, ch string, from uint64, oldSocket string) {
	c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]any{
		"channel": ch, "resume_from": from, "resume_socket_id": oldSocket}})
}

func TestResumeAfterReconnect(t *testing.T) {
	s := startPushd(t, "")
	const ch = "resume-me"
	c, sid := connect(t, s, "app-key")
	c.send(`{"event":"pusher:subscribe","data":{"channel":"resume-me"}}`)
	c.expect("pusher_internal:subscription_succeeded")
	send := func(i int, exclude string) {
		body := fmt.Sprintf(`{"name":"n","channel":%q,"data":%q,"socket_id":%q}`, ch, strconv.Itoa(i), exclude)
		if exclude == "" {
			body = fmt.Sprintf(`{"name":"n","channel":%q,"data":%q}`, ch, strconv.Itoa(i))
		}
		trigger(t, s, "app-key", "app-secret", "/apps/1/events", body)
	}
	send(1, "")
	last := seqOf(t, c.expect("n"))
	c.conn.WriteClose(1000, nil)

	// Cut off: events 2..6 are triggered, 4 excluding the old socket.
	for i := 2; i <= 6; i++ {
		ex := ""
		if i == 4 {
			ex = sid
		}
		send(i, ex)
	}
	c2, _ := connect(t, s, "app-key")
	subscribeResume(c2, ch, last, sid)
	c2.expect("pusher_internal:subscription_succeeded")
	prev := last
	for _, want := range []string{"2", "3", "5", "6"} {
		f := c2.expect("n")
		if got := f.dataString(t); got != want {
			t.Fatalf("replayed %q, want %q", got, want)
		}
		if seq := seqOf(t, f); seq <= prev {
			t.Fatalf("seq %d after %d: out of order", seq, prev)
		} else {
			prev = seq
		}
	}
	send(7, "")
	if f := c2.expect("n"); f.dataString(t) != "7" {
		t.Fatalf("live after replay: %s, want 7", f.raw)
	}
	c2.expectNothing(300 * time.Millisecond)
}

func TestResumeTooOld(t *testing.T) {
	s := startPushd(t, "")
	// small-key keeps 4 KiB of history: 100 events push the first out.
	for i := 0; i < 100; i++ {
		trigger(t, s, "small-key", "small-secret", "/apps/5/events", `{"name":"n","channel":"old","data":"0123456789012345678901234567890123456789"}`)
	}
	c, _ := connect(t, s, "small-key")
	subscribeResume(c, "old", 1, "")
	c.expect("pusher_internal:subscription_succeeded")
	f := c.expect("pusher:recovery_failed")
	if f.Channel != "old" {
		t.Fatalf("got %s, want recovery_failed on old", f.raw)
	}
	// Its data names the first position still stored: the history API
	// reads every event from there.
	var d struct {
		First uint64 `json:"first_seq"`
	}
	if err := json.Unmarshal([]byte(f.dataString(t)), &d); err != nil {
		t.Fatalf("recovery_failed data %s: %v", f.raw, err)
	}
	kept := history(t, s, "small-key", "small-secret", "5", "old", url.Values{"limit": {"1"}})
	if d.First == 0 || len(kept.Events) == 0 || d.First != kept.Events[0].Seq || d.First != kept.FirstSeq {
		t.Fatalf("recovery_failed %s: first_seq %d, want the first event still stored, %+v", f.raw, d.First, kept)
	}
	if seq := seqOf(t, f); seq < d.First {
		t.Fatalf("recovery_failed %s: seq %d below first_seq %d", f.raw, seq, d.First)
	}
	trigger(t, s, "small-key", "small-secret", "/apps/5/events", `{"name":"live","channel":"old","data":"x"}`)
	c.expect("live")
}

// TestResumeBeforeFirstEvent: a Pushd client learns a position from
// subscription_succeeded, so a cut before the channel's first event loses
// nothing; other clients (pusher-js) get no position there.
func TestResumeBeforeFirstEvent(t *testing.T) {
	s := startPushd(t, "")
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"n","channel":"elsewhere","data":"0"}`)
	c := dialRaw(t, s.WSURL("app-key")+"?protocol=7&client=pushd-test")
	sid := c.established()
	c.send(`{"event":"pusher:subscribe","data":{"channel":"quiet"}}`)
	pos := seqOf(t, c.expect("pusher_internal:subscription_succeeded"))
	c.conn.WriteClose(1000, nil)
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"n","channel":"quiet","data":"1"}`)
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"n","channel":"quiet","data":"2"}`)
	c2 := dialRaw(t, s.WSURL("app-key")+"?protocol=7&client=pushd-test")
	c2.established()
	subscribeResume(c2, "quiet", pos, sid)
	c2.expect("pusher_internal:subscription_succeeded")
	for _, want := range []string{"1", "2"} {
		if f := c2.expect("n"); f.dataString(t) != want {
			t.Fatalf("replayed %s, want %s", f.raw, want)
		}
	}
	js := dialRaw(t, s.WSURL("app-key")+"?protocol=7&client=js&version=8.4.0")
	js.established()
	js.send(`{"event":"pusher:subscribe","data":{"channel":"quiet"}}`)
	if f := js.expect("pusher_internal:subscription_succeeded"); strings.Contains(string(f.raw), `"seq"`) {
		t.Fatalf("pusher-js got a position it does not use: %s", f.raw)
	}
}

// TestResumeWantSeq: a client that is not one of Pushd's (pusher-js with
// pushd-resume) asks for the stream position with want_seq in its
// subscribe and gets it in subscription_succeeded, so a cut before the
// channel's first event loses nothing either; without want_seq it gets no
// position (TestResumeBeforeFirstEvent).
func TestResumeWantSeq(t *testing.T) {
	s := startPushd(t, "")
	c := dialRaw(t, s.WSURL("app-key")+"?protocol=7&client=js&version=8.4.0&flash=false")
	sid := c.established()
	c.send(`{"event":"pusher:subscribe","data":{"channel":"private-quiet","auth":"` + protocol.ChannelAuth("app-key", "app-secret", sid, "private-quiet", "") + `","want_seq":true}}`)
	pos := seqOf(t, c.expect("pusher_internal:subscription_succeeded"))
	c.conn.WriteClose(1000, nil)
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"n","channel":"private-quiet","data":"1"}`)
	c2 := dialRaw(t, s.WSURL("app-key")+"?protocol=7&client=js&version=8.4.0&flash=false")
	sid2 := c2.established()
	c2.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]any{"channel": "private-quiet",
		"auth": protocol.ChannelAuth("app-key", "app-secret", sid2, "private-quiet", ""), "resume_from": pos, "resume_socket_id": sid, "want_seq": true}})
	if f := c2.expect("pusher_internal:subscription_succeeded"); strings.Contains(string(f.raw), `"seq"`) {
		t.Fatalf("a resuming subscription got a new position: %s", f.raw)
	}
	if f := c2.expect("n"); f.dataString(t) != "1" {
		t.Fatalf("replayed %s, want 1", f.raw)
	}
}
