package stats

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// last returns the value of a series at second t of s.
func at(t *testing.T, s Series, col []Value, sec int64) float64 {
	t.Helper()
	for i, x := range s.T {
		if x == sec {
			return float64(col[i])
		}
	}
	t.Fatalf("second %d is not in the series (%d…%d)", sec, s.T[0], s.T[len(s.T)-1])
	return 0
}

// TestHistorySumsNodes: two nodes' samples of one second add up, per app
// and for all apps; a node's repeated sample for a second is dropped; the
// webhook queue, which every node reads, is not summed.
func TestHistorySumsNodes(t *testing.T) {
	h := NewHistory()
	now := time.Unix(1_000_000, 0)
	sec := now.Unix() - 1
	a := Sample{Node: "1", Name: "alpha", T: sec, All: Figures{Connections: 3, In: 10, Out: 30},
		Apps: map[string]Figures{"k": {Connections: 2, In: 10, Out: 20}}, API: 5, APIFailed: 1, Webhooks: Webhooks{Queue: 7, Failed: 2}}
	b := Sample{Node: "2", Name: "beta", T: sec, All: Figures{Connections: 4, Subscriptions: 8, Out: 4},
		Apps: map[string]Figures{"k": {Connections: 4, Subscriptions: 8, Out: 4}}, API: 1, Webhooks: Webhooks{Queue: 6, Sent: 3}}
	h.Add(a)
	h.Add(b)
	h.Add(a) // again: dropped
	s := h.Series("k", true, now)
	if len(s.T) != Keep || s.T[Keep-1] != sec {
		t.Fatalf("series spans %d seconds ending %d, want %d ending %d", len(s.T), s.T[len(s.T)-1], Keep, sec)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"app connections", at(t, s, s.Connections, sec), 6},
		{"app subscriptions", at(t, s, s.Subscriptions, sec), 8},
		{"app messages in", at(t, s, s.MessagesIn, sec), 10},
		{"app messages out", at(t, s, s.MessagesOut, sec), 24},
		{"api requests", at(t, s, s.APIRequests, sec), 6},
		{"api errors", at(t, s, s.APIErrors, sec), 1},
		{"webhook queue", at(t, s, s.WebhookQueue, sec), 7},
		{"webhooks sent", at(t, s, s.WebhookSent, sec), 3},
		{"webhook failures", at(t, s, s.WebhookFailed, sec), 2},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	all := h.Series("", false, now)
	if got := at(t, all, all.Connections, sec); got != 7 {
		t.Errorf("all apps' connections: got %v, want 7", got)
	}
	if all.APIRequests != nil || all.WebhookQueue != nil {
		t.Errorf("server figures given without asking: %v %v", all.APIRequests, all.WebhookQueue)
	}
	if other := h.Series("idle", false, now); at(t, other, other.Connections, sec) != 0 {
		t.Errorf("an app no node named: want 0 in a second that has samples")
	}
	if len(s.Nodes) != 2 || s.Nodes[0].Name != "alpha" || s.Nodes[1].Connections != 4 {
		t.Errorf("nodes: got %+v, want alpha and beta (4 connections)", s.Nodes)
	}
}

// TestHistoryGapsAndSpan: a second without samples is null in the JSON (a
// gap in the graph), the current second is left out, samples older than
// the span are dropped, and a node silent for long is no longer listed.
func TestHistoryGapsAndSpan(t *testing.T) {
	h := NewHistory()
	now := time.Unix(2_000_000, 0)
	h.Add(Sample{Node: "1", Name: "n", T: now.Unix() - 2, All: Figures{Connections: 1}})
	h.Add(Sample{Node: "1", Name: "n", T: now.Unix(), All: Figures{Connections: 9}})            // the current second
	h.Add(Sample{Node: "1", Name: "n", T: now.Unix() - Keep - 5, All: Figures{Connections: 5}}) // older than the span
	s := h.Series("", false, now)
	if got := at(t, s, s.Connections, now.Unix()-2); got != 1 {
		t.Fatalf("connections 2 s ago: got %v, want 1", got)
	}
	if got := at(t, s, s.Connections, now.Unix()-1); !math.IsNaN(got) {
		t.Fatalf("a second without samples: got %v, want NaN", got)
	}
	if s.T[len(s.T)-1] != now.Unix()-1 {
		t.Fatalf("the series ends at %d, want the second before now", s.T[len(s.T)-1])
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back struct{ Connections []*float64 }
	if err := json.Unmarshal(b, &back); err != nil || back.Connections[Keep-1] != nil || back.Connections[Keep-2] == nil || *back.Connections[Keep-2] != 1 {
		t.Fatalf("JSON %s…: want null for the gap and 1 before it", b[:80])
	}
	// The old sample did not overwrite the second sharing its slot.
	h.Add(Sample{Node: "2", Name: "m", T: now.Unix() - 2 - Keep, All: Figures{Connections: 100}})
	if s := h.Series("", false, now); at(t, s, s.Connections, now.Unix()-2) != 1 {
		t.Fatal("a sample older than the span changed a kept second")
	}
	later := h.Series("", false, now.Add(nodeFresh+2*time.Second))
	if len(later.Nodes) != 0 {
		t.Fatalf("nodes silent for %s: still listed %+v", nodeFresh, later.Nodes)
	}
}

// TestKeepBusiest: a sample names at most MaxApps apps, the busiest.
func TestKeepBusiest(t *testing.T) {
	m := map[string]Figures{}
	for i := range MaxApps + 50 {
		m[string(rune('a'+i%26))+string(rune('0'+i/26))] = Figures{Connections: float64(i)}
	}
	kept := keepBusiest(m, MaxApps)
	if len(kept) != MaxApps {
		t.Fatalf("kept %d apps, want %d", len(kept), MaxApps)
	}
	for k, f := range kept {
		if f.Connections < 50 {
			t.Fatalf("kept %s with %v connections, though %d apps are busier", k, f.Connections, MaxApps)
		}
	}
}
