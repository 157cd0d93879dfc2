package console

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/protocol"
)

// TestStreamShows: a filter keeps the entries about the channels whose
// names contain it (and none about no channel); the server's own channels
// are shown only when asked for.
func TestStreamShows(t *testing.T) {
	for _, tc := range []struct {
		filter   string
		internal bool
		chs      []string
		want     bool
	}{
		{"", false, nil, true},
		{"", false, []string{"news"}, true},
		{"", false, []string{"#server-to-user-42"}, false},
		{"", true, []string{"#online"}, true},
		{"room", false, []string{"presence-room-1"}, true},
		{"room", false, []string{"news"}, false},
		{"room", false, nil, false},
		{"room", false, []string{"news", "room"}, true},
		{"user", false, []string{"#server-to-user-42"}, false},
	} {
		if got := newStream(tc.filter, tc.internal).shows(tc.chs...); got != tc.want {
			t.Errorf("filter %q internal %v, channels %v: shows %v, want %v", tc.filter, tc.internal, tc.chs, got, tc.want)
		}
	}
}

// TestStreamShareOfTheSecond: a flood of events fills the events' share
// of the second and is counted as skipped, while a connect still gets
// through on its own share; the second's rates count every event.
func TestStreamShareOfTheSecond(t *testing.T) {
	s := newStream("", false)
	frame := protocol.EventFrame("e", "news", `"x"`, "")
	for range 150 {
		s.delivery(bus.Delivery{App: "k", Channel: "news", Frame: frame, Seq: 1})
	}
	s.feedEntry([]byte(`{"type":"connected","socket_id":"1.1"}`))
	if n := len(s.out); n != maxEntries+1 {
		t.Fatalf("%d entries queued, want %d events and the connect", n, maxEntries)
	}
	var last map[string]any
	for len(s.out) > 0 {
		json.Unmarshal(<-s.out, &last)
	}
	if last["type"] != "connected" {
		t.Fatalf("last entry %v, want the connect", last)
	}
	var r struct {
		Channels map[string]int
		Skipped  int
	}
	if err := json.Unmarshal(s.rates(), &r); err != nil || r.Channels["news"] != 150 || r.Skipped != 150-maxEntries {
		t.Fatalf("rates %+v (%v): want 150 events on news, %d skipped", r, err, 150-maxEntries)
	}
	var next struct {
		Channels map[string]int
		Skipped  int
	}
	if err := json.Unmarshal(s.rates(), &next); err != nil || len(next.Channels) != 0 || next.Skipped != 0 {
		t.Fatalf("the next second's rates %+v (%v): want them started over", next, err)
	}
}

// TestRatesNameTheBusiest: a second's rates name at most maxRates
// channels, the busiest.
func TestRatesNameTheBusiest(t *testing.T) {
	s := newStream("", false)
	for i := range maxRates + 20 {
		s.counts["c"+strconv.Itoa(i)] = i + 1
	}
	var r struct{ Channels map[string]int }
	if err := json.Unmarshal(s.rates(), &r); err != nil || len(r.Channels) != maxRates {
		t.Fatalf("rates name %d channels (%v), want %d", len(r.Channels), err, maxRates)
	}
	for ch, n := range r.Channels {
		if n <= 20 {
			t.Fatalf("rates name %s with %d events though %d channels had more", ch, n, maxRates)
		}
	}
}
