package e2e

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// triggerMany stores n events named name on ch of app-key (data from
// dataOf), 10 per batch request, in order.
func triggerMany(t *testing.T, s *server, ch, name string, n int, dataOf func(i int) string) {
	t.Helper()
	for i := 0; i < n; i += 10 {
		var evs []map[string]string
		for j := i; j < min(i+10, n); j++ {
			evs = append(evs, map[string]string{"channel": ch, "name": name, "data": dataOf(j)})
		}
		body, _ := json.Marshal(map[string]any{"batch": evs})
		trigger(t, s, "app-key", "app-secret", "/apps/1/batch_events", string(body))
	}
}

// pushdPeer connects as one of Pushd's own clients (which get positions).
func pushdPeer(t *testing.T, s *server) (*wsPeer, string) {
	t.Helper()
	p := dialPeer(t, nil, s.WSAddr, "/app/app-key?protocol=7&client=pushd-test")
	return p, p.established()
}

// resumeFrom subscribes p to ch resuming after position from.
func (p *wsPeer) resumeFrom(ch string, from uint64, oldSocket string) {
	p.t.Helper()
	p.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]any{
		"channel": ch, "resume_from": from, "resume_socket_id": oldSocket}})
}

// positionOf subscribes p to ch and returns the position its
// subscription_succeeded carries.
func (p *wsPeer) positionOf(ch string) uint64 {
	p.t.Helper()
	p.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": ch}})
	return seqOf(p.t, p.expect("pusher_internal:subscription_succeeded"))
}

// TestResumeBeyondTheOutbox (issue 13 #8): a resume of 10,000 missed events,
// the documented maximum, arrives in full and in order. It used to be
// queued at once into the socket's 4,096-frame outbox and ended in a 4100
// slow-consumer close after about 4,100 frames.
func TestResumeBeyondTheOutbox(t *testing.T) {
	s := startPushd(t, "")
	const ch, n = "resume-10k", 10000
	p, sid := pushdPeer(t, s)
	pos := p.positionOf(ch)
	p.conn.Close()
	triggerMany(t, s, ch, "n", n, strconv.Itoa)

	p2, _ := pushdPeer(t, s)
	p2.resumeFrom(ch, pos, sid)
	p2.expect("pusher_internal:subscription_succeeded")
	prev := pos
	for i := 0; i < n; i++ {
		f := p2.next(10 * time.Second)
		if f.Event != "n" {
			t.Fatalf("after %d replayed events: got %s, want event n", i, f.raw)
		}
		seq := seqOf(t, f)
		if seq <= prev {
			t.Fatalf("replayed seq %d after %d: out of order or doubled", seq, prev)
		}
		prev = seq
		if got := f.dataString(t); got != strconv.Itoa(i) {
			t.Fatalf("replayed event %d: data %q, want %d", i, got, i)
		}
	}
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"live","channel":"resume-10k","data":"x"}`)
	if f := p2.next(5 * time.Second); f.Event != "live" {
		t.Fatalf("after the replay: got %s, want the live event", f.raw)
	}
}

// TestResumeHoldsLiveEventsBounded (issue 13 #8): while a long replay waits
// for a client that reads slowly, more live events arrive on the channel
// than the subscription holds in memory; they are then read from the
// stream, so the client still gets everything once, in order, and is not
// closed.
func TestResumeHoldsLiveEventsBounded(t *testing.T) {
	s := startPushd(t, "")
	const ch, missed, live = "resume-held", 2000, 1500
	big := strings.Repeat("b", 8000) // 2,000 of these are far more than socket buffers and outbox hold
	p, sid := pushdPeer(t, s)
	pos := p.positionOf(ch)
	p.conn.Close()
	triggerMany(t, s, ch, "n", missed, func(i int) string { return strconv.Itoa(i) + ":" + big })

	p2, _ := pushdPeer(t, s)
	p2.resumeFrom(ch, pos, sid)
	p2.expect("pusher_internal:subscription_succeeded")
	// The client reads nothing more while the live events are stored.
	triggerMany(t, s, ch, "n", live, func(i int) string { return strconv.Itoa(missed + i) })
	prev := pos
	for i := 0; i < missed+live; i++ {
		f := p2.next(10 * time.Second)
		if f.Event != "n" {
			t.Fatalf("after %d events: got %.200s, want event n", i, f.raw)
		}
		seq := seqOf(t, f)
		if seq <= prev {
			t.Fatalf("event %d: seq %d after %d: out of order or doubled", i, seq, prev)
		}
		prev = seq
		data := f.dataString(t)
		if num, _, _ := strings.Cut(data, ":"); num != strconv.Itoa(i) {
			t.Fatalf("event %d: data %.40q, want %d", i, data, i)
		}
	}
	p2.expectNoText(300 * time.Millisecond)
}

// TestResumeAfterStoreReset (issue 13 #9): positions from before the event
// store was reset do not belong to the new stream. A client resuming from
// 55 after 70 events were stored in a fresh stream used to get the last 15
// and no recovery_failed.
func TestResumeAfterStoreReset(t *testing.T) {
	s := startPushd(t, "")
	triggerMany(t, s, "reset-feed", "n", 70, strconv.Itoa)
	p, _ := pushdPeer(t, s)
	p.resumeFrom("reset-feed", 55, "")
	p.expect("pusher_internal:subscription_succeeded")
	f := p.expect("pusher:recovery_failed")
	if f.Channel != "reset-feed" {
		t.Fatalf("recovery_failed on %q, want reset-feed", f.Channel)
	}
	// The failure carries the position live delivery continues from.
	at := seqOf(t, f)
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"live","channel":"reset-feed","data":"x"}`)
	if g := p.expect("live"); seqOf(t, g) <= at {
		t.Fatalf("live event seq %d not after the recovery position %d", seqOf(t, g), at)
	}
}

// TestResumePositionAhead (issue 13 #9): a position beyond the stream's last
// sequence cannot be proven complete either.
func TestResumePositionAhead(t *testing.T) {
	s := startPushd(t, "")
	p, _ := pushdPeer(t, s)
	pos := p.positionOf("ahead")
	p.conn.Close()
	p2, _ := pushdPeer(t, s)
	p2.resumeFrom("ahead", pos+1000, "")
	p2.expect("pusher_internal:subscription_succeeded")
	if f := p2.expect("pusher:recovery_failed"); seqOf(t, f) != pos {
		t.Fatalf("recovery position %d, want the stream's last %d", seqOf(t, f), pos)
	}
}

// TestResumeOnBrandNewApp (issue 13 #9): on an app whose stream never held
// an event, a Pushd client still gets a position, so what is sent while it
// is away is replayed. It got none and lost those events.
func TestResumeOnBrandNewApp(t *testing.T) {
	s := startPushd(t, "")
	p, sid := pushdPeer(t, s)
	pos := p.positionOf("first-ever")
	p.conn.Close()
	for i := range 3 {
		trigger(t, s, "app-key", "app-secret", "/apps/1/events", fmt.Sprintf(`{"name":"n","channel":"first-ever","data":"%d"}`, i))
	}
	p2, _ := pushdPeer(t, s)
	p2.resumeFrom("first-ever", pos, sid)
	p2.expect("pusher_internal:subscription_succeeded")
	for i := range 3 {
		if f := p2.expect("n"); f.dataString(t) != strconv.Itoa(i) {
			t.Fatalf("replayed %s, want %d", f.raw, i)
		}
	}
	p2.expectNoText(300 * time.Millisecond)
}

// TestResumeOverTheCap (issue 13 #10): more than 10,000 missed events are
// not replayed: recovery_failed, then live events.
func TestResumeOverTheCap(t *testing.T) {
	s := startPushd(t, "")
	const ch = "resume-cap"
	p, sid := pushdPeer(t, s)
	pos := p.positionOf(ch)
	p.conn.Close()
	triggerMany(t, s, ch, "n", 10001, strconv.Itoa)
	p2, _ := pushdPeer(t, s)
	p2.resumeFrom(ch, pos, sid)
	p2.expect("pusher_internal:subscription_succeeded")
	p2.expect("pusher:recovery_failed")
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"live","channel":"resume-cap","data":"x"}`)
	p2.expect("live")
}

// expectNoText checks that no text frame arrives within d.
func (p *wsPeer) expectNoText(d time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		f, err := p.readFrame(time.Until(deadline))
		if err != nil {
			return // the deadline passed
		}
		if f.op == opText {
			p.t.Fatalf("unexpected frame %.200s", f.payload)
		}
	}
}

// TestResumeFromMemory (issue 13 #10): a client that comes back within the
// window's linger resumes from the node's memory, without a stream read;
// with the window off the same resume reads the stream.
func TestResumeFromMemory(t *testing.T) {
	for _, tc := range []struct {
		name, config, result string
	}{
		{"window", "", "window"},
		{"no window", "resume_window_bytes: -1\n", "stream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startPushd(t, tc.config)
			p, sid := pushdPeer(t, s)
			p.positionOf("mem")
			trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"n","channel":"mem","data":"0"}`)
			pos := seqOf(t, p.expect("n"))
			p.conn.Close()
			// The channel has no subscriber left; the node keeps receiving
			// its events for resume_window_linger.
			waitFor(t, "the subscriber gone", func() bool { return s.metric(t, `pushd_channels{app="app-key"}`) == 0 })
			triggerMany(t, s, "mem", "n", 200, func(i int) string { return strconv.Itoa(i + 1) })

			p2, _ := pushdPeer(t, s)
			p2.resumeFrom("mem", pos, sid)
			p2.expect("pusher_internal:subscription_succeeded")
			for i := 1; i <= 200; i++ {
				if f := p2.expect("n"); f.dataString(t) != strconv.Itoa(i) {
					t.Fatalf("replayed %s, want %d", f.raw, i)
				}
			}
			metric := `pushd_resumes_total{app="app-key",result="` + tc.result + `"}`
			if n := s.metric(t, metric); n != 1 {
				t.Fatalf("%s = %v, want 1", metric, n)
			}
		})
	}
}
