package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pushd/pushd/gateway/protocol"
)

// signin signs c in as user_data ud.
func signin(t *testing.T, c *rawClient, socketID, ud string) {
	t.Helper()
	c.sendJSON(map[string]any{"event": "pusher:signin", "data": map[string]string{
		"auth": protocol.UserAuth("app-key", "app-secret", socketID, ud), "user_data": ud}})
	c.expect("pusher:signin_success")
}

// watchEvent reads a watchlist_events frame and returns "name:id,id".
func watchEvent(t *testing.T, c *rawClient) string {
	t.Helper()
	f := c.expect("pusher_internal:watchlist_events")
	var d struct {
		Events []struct {
			Name    string   `json:"name"`
			UserIDs []string `json:"user_ids"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(f.dataString(t)), &d); err != nil || len(d.Events) != 1 {
		t.Fatalf("watchlist frame %s: %v", f.raw, err)
	}
	return d.Events[0].Name + ":" + strings.Join(d.Events[0].UserIDs, ",")
}

func TestWatchlist(t *testing.T) {
	s := startPushd(t, "")
	u3, u3id := connect(t, s, "app-key")
	signin(t, u3, u3id, `{"id":"u3"}`)

	w, wid := connect(t, s, "app-key")
	signin(t, w, wid, `{"id":"watcher","watchlist":["u2","u3"]}`)
	if got := watchEvent(t, w); got != "online:u3" {
		t.Fatalf("initial watchlist event %q, want online:u3", got)
	}
	u2, u2id := connect(t, s, "app-key")
	signin(t, u2, u2id, `{"id":"u2"}`)
	if got := watchEvent(t, w); got != "online:u2" {
		t.Fatalf("got %q, want online:u2", got)
	}
	// A second connection of u2 changes nothing; closing both is offline.
	u2b, u2bid := connect(t, s, "app-key")
	signin(t, u2b, u2bid, `{"id":"u2"}`)
	u2.conn.WriteClose(1000, nil)
	u2b.send(`{"event":"pusher:ping","data":{}}`)
	u2b.expect("pusher:pong")
	u2b.conn.WriteClose(1000, nil)
	if got := watchEvent(t, w); got != "offline:u2" {
		t.Fatalf("got %q, want offline:u2", got)
	}

	// Over 100 ids: signin succeeds, then a 4302 error frame.
	var ids []string
	for i := 0; i < 101; i++ {
		ids = append(ids, fmt.Sprintf("%q", fmt.Sprint("x", i)))
	}
	big, bigid := connect(t, s, "app-key")
	signin(t, big, bigid, `{"id":"big","watchlist":[`+strings.Join(ids, ",")+`]}`)
	if code := errorCode(t, big.expect("pusher:error")); code != protocol.CodeWatchlistLimit {
		t.Fatalf("101 watched ids: error %d, want 4302", code)
	}
}
