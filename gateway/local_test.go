package gateway

import (
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/protocol"
)

// TestEachSocketShowsDetails: the console's view of a node lists each of an
// app's sockets with its user agent (as the handshake sent it), remote
// address, connection time and channels; another node lists none of them.
func TestEachSocketShowsDetails(t *testing.T) {
	url := startTestNATS(t)
	list := []config.App{{Key: "k", Secret: "s"}, {Key: "other", Secret: "s"}}
	a, b := startTestNode(t, url, list), startTestNode(t, url, list)
	before := time.Now()
	p := dialPeerWith(t, a, "k", http.Header{"User-Agent": {"Mozilla/5.0 (console test)"}})
	p.subscribe("room", "s")
	p.subscribe("private-desk", "s")
	dialPeer(t, a, "other")
	var got []Socket
	a.g.EachSocket("k", func(s Socket) { got = append(got, s) })
	if len(got) != 1 {
		t.Fatalf("node a lists %d sockets of app k, want 1: %+v", len(got), got)
	}
	s := got[0]
	host, _, err := net.SplitHostPort(s.Remote)
	if s.ID != p.socketID || s.UserAgent != "Mozilla/5.0 (console test)" || err != nil || host != "127.0.0.1" ||
		s.Since.Before(before.Add(-time.Second)) || s.Since.After(time.Now()) || !slices.Equal(s.Channels, []string{"private-desk", "room"}) {
		t.Fatalf("socket %+v: want id %s, the user agent sent, remote 127.0.0.1, connected since the dial, channels private-desk and room", s, p.socketID)
	}
	b.g.EachSocket("k", func(s Socket) { t.Errorf("node b lists %+v, a socket of node a", s) })
}

// TestDisconnectAcrossNodes: the console's disconnect closes a socket with
// 4009 on the node holding it, whether asked there (CloseSocket) or from
// another node's console (ControlDisconnect); a socket id of another app
// or of no socket closes nothing.
func TestDisconnectAcrossNodes(t *testing.T) {
	url := startTestNATS(t)
	list := []config.App{{Key: "k", Secret: "s"}, {Key: "other", Secret: "s"}}
	a, b := startTestNode(t, url, list), startTestNode(t, url, list)
	local, remote := dialPeer(t, a, "k"), dialPeer(t, a, "k")
	if a.g.CloseSocket("other", local.socketID) || b.g.CloseSocket("k", local.socketID) || a.g.CloseSocket("k", "1.999") {
		t.Fatal("CloseSocket closed a socket of another app, of another node, or of no socket")
	}
	if !a.g.CloseSocket("k", local.socketID) {
		t.Fatal("CloseSocket did not find a socket of its node")
	}
	closed := func(p *peer) {
		t.Helper()
		p.waitFrame("pusher:error 4009", func(f peerFrame) bool {
			var d struct{ Code int }
			return f.Event == "pusher:error" && protocol.DecodeData(f.Data, &d) == nil && d.Code == protocol.CodeUnauthorized
		})
	}
	closed(local)
	// From node b: a control message that node a acts on.
	if err := b.b.PublishControl("k", bus.ControlDisconnect, []byte(remote.socketID)); err != nil {
		t.Fatal(err)
	}
	closed(remote)
}

// TestFeedOnlyWhileWatched: while a console watches an app, every node
// sends its connects and closes to the app's feed; before, nothing.
func TestFeedOnlyWhileWatched(t *testing.T) {
	url := startTestNATS(t)
	list := []config.App{{Key: "k", Secret: "s"}}
	a, b := startTestNode(t, url, list), startTestNode(t, url, list)
	entries := make(chan map[string]any, 16)
	stop, err := b.b.TapControl("k", bus.ControlFeed, func(data []byte) {
		var e map[string]any
		if json.Unmarshal(data, &e) == nil {
			entries <- e
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	unwatched := dialPeer(t, a, "k")
	if err := b.b.PublishControl("k", bus.ControlWatch, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !a.g.apps.Get("k").Watched() {
		if time.Now().After(deadline) {
			t.Fatal("node a did not take the watch within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	watched := dialPeerWith(t, a, "k", http.Header{"User-Agent": {"feed-test"}})
	next := func(want string) map[string]any {
		t.Helper()
		select {
		case e := <-entries:
			if e["type"] != want {
				t.Fatalf("feed entry %v, want %s", e, want)
			}
			return e
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s entry within 10s", want)
		}
		return nil
	}
	e := next("connected")
	if e["socket_id"] != watched.socketID || e["user_agent"] != "feed-test" || !strings.HasPrefix(e["remote"].(string), "127.0.0.1:") {
		t.Fatalf("connected entry %v: want socket %s (not %s, connected before the watch), its user agent and remote", e, watched.socketID, unwatched.socketID)
	}
	watched.conn.WriteClose(1000, []byte("bye"))
	if e := next("disconnected"); e["socket_id"] != watched.socketID || e["code"] != float64(1000) || e["reason"] != "bye" {
		t.Fatalf("disconnected entry %v: want socket %s, code 1000, reason bye", e, watched.socketID)
	}
}
