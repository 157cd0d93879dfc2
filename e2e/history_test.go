package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// historyPage is the answer of GET /apps/{id}/channels/{channel}/events.
type historyPage struct {
	Events []struct {
		Seq      uint64 `json:"seq"`
		Event    string `json:"event"`
		Data     string `json:"data"`
		TimeMS   int64  `json:"time_ms"`
		SocketID string `json:"socket_id"`
	} `json:"events"`
	More     bool   `json:"more"`
	FirstSeq uint64 `json:"first_seq"`
}

// history reads a page of a channel's stored events and fails unless the
// API answers 200.
func history(t *testing.T, s *server, key, secret, appID, channel string, params url.Values) historyPage {
	t.Helper()
	path := "/apps/" + appID + "/channels/" + channel + "/events"
	status, body := apiCall(t, s, key, secret, http.MethodGet, path, params, "")
	if status != http.StatusOK {
		t.Fatalf("GET %s?%s: %d %s, want 200", path, params.Encode(), status, body)
	}
	var p historyPage
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
	return p
}

// TestHistoryAPI: the history endpoint answers a channel's stored events in
// order with their seq and time, after after_seq, at most limit (100 by
// default, 1,000 at most), and refuses bad parameters (400), unsigned or
// badly signed calls (401) and an unknown app id (404).
func TestHistoryAPI(t *testing.T) {
	s := startPushd(t, "")
	start := time.Now()
	const n = 1100
	for i := 0; i < n; i += 10 {
		var batch []string
		for j := i; j < i+10; j++ {
			ex := ""
			if j == 7 {
				ex = `,"socket_id":"9.9"`
			}
			batch = append(batch, fmt.Sprintf(`{"channel":"hist","name":"n","data":"%d"%s}`, j, ex),
				fmt.Sprintf(`{"channel":"other","name":"x","data":"o%d"}`, j))
		}
		trigger(t, s, "app-key", "app-secret", "/apps/1/batch_events", `{"batch":[`+strings.Join(batch[:10], ",")+`]}`)
		trigger(t, s, "app-key", "app-secret", "/apps/1/batch_events", `{"batch":[`+strings.Join(batch[10:], ",")+`]}`)
	}
	// check that a page holds the channel's events from index from, in
	// order, with times of this run.
	check := func(what string, p historyPage, from, count int, more bool) {
		t.Helper()
		if len(p.Events) != count || p.More != more {
			t.Fatalf("%s: %d events, more %v; want %d, more %v", what, len(p.Events), p.More, count, more)
		}
		for i, e := range p.Events {
			if e.Event != "n" || e.Data != strconv.Itoa(from+i) {
				t.Fatalf("%s: event %d is %+v, want n with data %d", what, i, e, from+i)
			}
			if i > 0 && e.Seq <= p.Events[i-1].Seq {
				t.Fatalf("%s: seq %d after %d: out of order", what, e.Seq, p.Events[i-1].Seq)
			}
			if at := time.UnixMilli(e.TimeMS); at.Before(start.Add(-time.Second)) || at.After(time.Now().Add(time.Second)) {
				t.Fatalf("%s: event %d stored at %v, want during the test", what, i, at)
			}
			if wantEx := map[bool]string{true: "9.9"}[from+i == 7]; e.SocketID != wantEx {
				t.Fatalf("%s: event %d socket_id %q, want %q", what, i, e.SocketID, wantEx)
			}
		}
		if p.FirstSeq == 0 || (len(p.Events) > 0 && p.FirstSeq > p.Events[0].Seq) {
			t.Fatalf("%s: first_seq %d, want the stream's first (at most the first event's %d)", what, p.FirstSeq, p.Events[0].Seq)
		}
	}
	first := history(t, s, "app-key", "app-secret", "1", "hist", nil)
	check("default page", first, 0, 100, true)
	next := history(t, s, "app-key", "app-secret", "1", "hist", url.Values{"after_seq": {strconv.FormatUint(first.Events[99].Seq, 10)}})
	check("after the first page", next, 100, 100, true)
	mid := history(t, s, "app-key", "app-secret", "1", "hist", url.Values{"after_seq": {strconv.FormatUint(first.Events[4].Seq, 10)}, "limit": {"1"}})
	check("limit 1 after the 5th", mid, 5, 1, true)
	big := history(t, s, "app-key", "app-secret", "1", "hist", url.Values{"limit": {"1000"}})
	check("limit 1000", big, 0, 1000, true)
	capped := history(t, s, "app-key", "app-secret", "1", "hist", url.Values{"limit": {"5000"}})
	check("limit 5000 (capped)", capped, 0, 1000, true)
	rest := history(t, s, "app-key", "app-secret", "1", "hist", url.Values{"after_seq": {strconv.FormatUint(big.Events[999].Seq, 10)}, "limit": {"1000"}})
	check("the rest", rest, 1000, 100, false)
	if p := history(t, s, "app-key", "app-secret", "1", "hist", url.Values{"after_seq": {strconv.FormatUint(rest.Events[99].Seq, 10)}}); len(p.Events) != 0 || p.More {
		t.Fatalf("after the last event: %+v, want none", p)
	}
	if p := history(t, s, "app-key", "app-secret", "1", "never-used", nil); len(p.Events) != 0 || p.More {
		t.Fatalf("a channel without events: %+v, want none", p)
	}
	// first_seq: every event from it on is stored; a position before it
	// has lost events (none here: nothing aged out).
	if p := history(t, s, "app-key", "app-secret", "1", "other", url.Values{"limit": {"1"}}); p.FirstSeq > first.Events[0].Seq || p.Events[0].Data != "o0" {
		t.Fatalf("other channel: %+v, want o0 and first_seq at most %d", p, first.Events[0].Seq)
	}

	path := "/apps/1/channels/hist/events"
	for _, tc := range []struct {
		params url.Values
		status int
	}{
		{url.Values{"limit": {"0"}}, 400},
		{url.Values{"limit": {"-1"}}, 400},
		{url.Values{"limit": {"many"}}, 400},
		{url.Values{"after_seq": {"-1"}}, 400},
		{url.Values{"after_seq": {"x"}}, 400},
	} {
		status, body := apiCall(t, s, "app-key", "app-secret", http.MethodGet, path, tc.params, "")
		if status != tc.status || !strings.Contains(body, `"error"`) {
			t.Errorf("GET %s?%s: %d %s, want %d with a JSON error", path, tc.params.Encode(), status, body, tc.status)
		}
	}
	if status, body := apiCall(t, s, "app-key", "app-secret", http.MethodGet, "/apps/1/channels/bad%20name/events", nil, ""); status != 400 {
		t.Errorf("bad channel name: %d %s, want 400", status, body)
	}
	if status, body := apiCall(t, s, "app-key", "app-secret", http.MethodGet, "/apps/99/channels/hist/events", nil, ""); status != 404 || !strings.Contains(body, "unknown app id") {
		t.Errorf("unknown app id: %d %s, want 404", status, body)
	}
	if status, body := apiCall(t, s, "app-key", "wrong-secret", http.MethodGet, path, nil, ""); status != 401 {
		t.Errorf("bad signature: %d %s, want 401", status, body)
	}
	if status, body := apiCall(t, s, "no-such-key", "x", http.MethodGet, path, nil, ""); status != 401 {
		t.Errorf("unknown key: %d %s, want 401", status, body)
	}
	resp, err := http.Get(s.APIURL() + path + "?after_seq=0")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("unsigned: %d, want 401", resp.StatusCode)
	}
	if status, _ := apiCall(t, s, "app-key", "app-secret", http.MethodPost, path, nil, "{}"); status != 405 {
		t.Errorf("POST: %d, want 405", status)
	}
}
