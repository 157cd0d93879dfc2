package console

import (
	"net/http"
	"sort"
	"strings"

	"github.com/pushd/pushd/gateway"
	"github.com/pushd/pushd/gateway/api"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/gateway/protocol"
)

// The most rows a view sends; the page says how many there are in all.
const (
	maxSockets  = 200
	maxChannels = 500
	maxMembers  = 20
)

// appList names the apps the login may see and this node.
func (c *Console) appList(w http.ResponseWriter, r *http.Request, l login) {
	api.WriteJSON(w, http.StatusOK, map[string]any{"apps": l.keys, "node": c.d.NodeName, "node_id": c.d.Node, "operator": l.operator})
}

// socket is one of this node's connections as the page lists it.
type socket struct {
	SocketID  string   `json:"socket_id"`
	UserID    string   `json:"user_id,omitempty"`
	Remote    string   `json:"remote,omitempty"`
	UserAgent string   `json:"user_agent,omitempty"`
	SinceMS   int64    `json:"since_ms"`
	Channels  []string `json:"channels"`
}

// channel is an occupied channel of the cluster as the page lists it.
type channel struct {
	Name        string   `json:"name"`
	Subscribers int      `json:"subscription_count"`
	Members     int      `json:"user_count,omitempty"`
	MemberIDs   []string `json:"members,omitempty"`
	Internal    bool     `json:"internal,omitempty"`
}

// stats lists this node's connections of the app (at most maxSockets,
// the newest first; ?q= keeps those whose id, user, remote address or user
// agent contain it) and the cluster's occupied channels (at most
// maxChannels, the most subscribed first; ?channel= keeps those whose name
// contains it; ?internal=1 adds the server's own).
func (c *Console) stats(w http.ResponseWriter, r *http.Request, a *apps.App, _ login) {
	q := r.URL.Query()
	find, only, withInternal := q.Get("q"), q.Get("channel"), q.Get("internal") == "1"
	sockets := []socket{}
	total, matched := 0, 0
	c.d.Local.EachSocket(a.Key, func(s gateway.Socket) {
		total++
		if find != "" && !strings.Contains(s.ID, find) && !strings.Contains(s.UserID, find) &&
			!strings.Contains(s.Remote, find) && !strings.Contains(s.UserAgent, find) {
			return
		}
		matched++
		sockets = append(sockets, socket{SocketID: s.ID, UserID: s.UserID, Remote: s.Remote, UserAgent: s.UserAgent,
			SinceMS: s.Since.UnixMilli(), Channels: s.Channels})
	})
	sort.Slice(sockets, func(i, j int) bool {
		if sockets[i].SinceMS != sockets[j].SinceMS {
			return sockets[i].SinceMS > sockets[j].SinceMS
		}
		return sockets[i].SocketID < sockets[j].SocketID
	})
	sockets = sockets[:min(len(sockets), maxSockets)]

	names, counts := c.d.Presence.Channels(a.Key, "")
	if withInternal {
		in, inCounts := c.d.Presence.Channels(a.Key, "#")
		names = append(names, in...)
		for n, k := range inCounts {
			counts[n] = k
		}
	}
	chans := make([]channel, 0, min(len(names), maxChannels))
	for _, n := range names {
		if only == "" || strings.Contains(n, only) {
			chans = append(chans, channel{Name: n, Subscribers: counts[n], Internal: internal(n)})
		}
	}
	occupied := len(chans)
	sort.SliceStable(chans, func(i, j int) bool { return chans[i].Subscribers > chans[j].Subscribers })
	chans = chans[:min(len(chans), maxChannels)]
	for i := range chans {
		if protocol.KindOf(chans[i].Name) == protocol.Presence || chans[i].Name == protocol.OnlineChannel {
			ms := c.d.Presence.Members(a.Key, chans[i].Name)
			chans[i].Members = len(ms)
			for _, m := range ms[:min(len(ms), maxMembers)] {
				chans[i].MemberIDs = append(chans[i].MemberIDs, m.UserID)
			}
		}
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"app": a.Key, "node": c.d.NodeName, "connections": total,
		"sockets_matched": matched, "sockets": sockets, "channels_occupied": occupied, "channels": chans})
}

// series gives the graphs' data: the app's figures over the cluster, and
// the server's own (API, webhooks, each node's connections) to an
// operator.
func (c *Console) series(w http.ResponseWriter, r *http.Request, a *apps.App, l login) {
	if c.d.Stats == nil {
		api.WriteError(w, http.StatusServiceUnavailable, "no figures on this node")
		return
	}
	s := c.d.Stats.Series(a.Key, l.operator)
	if !l.operator {
		for i := range s.Nodes {
			s.Nodes[i].Connections = 0 // every app's: not for one app's login
		}
	}
	api.WriteJSON(w, http.StatusOK, s)
}
