package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/presence"
)

// onlineChannel is the internal presence channel of signed-in users.
const onlineChannel = protocol.OnlineChannel

// maxWatchlist is Pusher's watchlist size; more ids get a 4302 error frame.
const maxWatchlist = protocol.MaxWatchlist

// watchers indexes signed-in clients by the user ids they watch.
type watchers struct {
	mu sync.Mutex
	m  map[chanKey]map[*client]struct{} // (app, watched user id) -> clients
}

func (w *watchers) add(app string, ids []string, c *client) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[chanKey]map[*client]struct{}{}
	}
	for _, id := range ids {
		k := chanKey{app, id}
		if w.m[k] == nil {
			w.m[k] = map[*client]struct{}{}
		}
		w.m[k][c] = struct{}{}
	}
}

func (w *watchers) remove(app string, ids []string, c *client) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range ids {
		k := chanKey{app, id}
		delete(w.m[k], c)
		if len(w.m[k]) == 0 {
			delete(w.m, k)
		}
	}
}

func (w *watchers) of(app, id string) []*client {
	w.mu.Lock()
	defer w.mu.Unlock()
	set := w.m[chanKey{app, id}]
	out := make([]*client, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	return out
}

// parseUserData reads a signin's user_data: a JSON object with a non-empty
// string id and an optional watchlist.
func parseUserData(userData string) (id string, watchlist []any, err error) {
	var ud struct {
		ID        any   `json:"id"`
		Watchlist []any `json:"watchlist"`
	}
	if err := json.Unmarshal([]byte(userData), &ud); err != nil {
		return "", nil, errors.New("user_data must be a JSON object with a string id")
	}
	id, _ = ud.ID.(string)
	if id == "" {
		return "", nil, errors.New("user_data needs a non-empty string id")
	}
	return id, ud.Watchlist, nil
}

// validSigninID refuses a user id that could never receive sendToUser: the
// SDKs send to the channel "#server-to-user-{id}", so the id must be made of
// channel-name characters, and it is bounded like a presence user_id.
func validSigninID(id string, maxLen int) error {
	if len(id) > maxLen {
		return fmt.Errorf("user_data id is longer than %d characters (max_user_id_length): use a shorter id", maxLen)
	}
	if err := protocol.ValidateChannel(protocol.ServerToUserPrefix+id, len(protocol.ServerToUserPrefix)+maxLen); err != nil {
		return fmt.Errorf("user_data id %q cannot receive sendToUser: %w", id, err)
	}
	return nil
}

// watchlistIDs reads user_data's watchlist (strings or numbers), keeping
// the first maxWatchlist ids; over reports that some were dropped.
func watchlistIDs(raw []any) (ids []string, over bool) {
	for _, v := range raw {
		var id string
		switch x := v.(type) {
		case string:
			id = x
		case float64:
			b, _ := json.Marshal(x)
			id = string(b)
		}
		if id == "" {
			continue
		}
		if len(ids) == maxWatchlist {
			return ids, true
		}
		ids = append(ids, id)
	}
	return ids, false
}

// online marks a newly signed-in connection online and registers its
// watchlist, answering with the watched users already online.
func (f *frames) online(c *client, id string, watch []string) {
	ctx, cancel := context.WithTimeout(f.ctx, storeTimeout)
	defer cancel()
	if err := f.presence.Join(ctx, c.app().Key, onlineChannel, c.socketID, presence.Member{UserID: id}); err != nil {
		f.log.Warn("online status", slog.String("app", c.app().Key), slog.Any("err", err))
	}
	if _, _, ok := f.setWatchlist(c, watch); !ok || len(watch) == 0 {
		return
	}
	if on := f.onlineOf(c.app().Key, watch); len(on) > 0 {
		c.send(watchlistFrame("online", on))
	}
}

// setWatchlist replaces a signed-in connection's watchlist and its entries
// in the watchers index, under the connection's lock, so that a replacement
// from the API, the signin and the close of the connection (offline, which
// reads the list under the same lock after closed is set) cannot leave the
// index with ids the connection no longer watches. It returns the ids added
// and removed; ok is false for a connection that closed or is not signed in.
func (f *frames) setWatchlist(c *client, watch []string) (added, removed []string, ok bool) {
	app := c.app().Key
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() || c.userID == "" {
		return nil, nil, false
	}
	was := map[string]bool{}
	for _, id := range c.watchlist {
		was[id] = true
	}
	now := map[string]bool{}
	for _, id := range watch {
		if !now[id] && !was[id] {
			added = append(added, id)
		}
		now[id] = true
	}
	for id := range was {
		if !now[id] {
			removed = append(removed, id)
		}
	}
	c.watchlist = watch
	f.watchers.remove(app, removed, c)
	f.watchers.add(app, added, c)
	return added, removed, true
}

// onlineOf keeps the ids that are online anywhere in the cluster.
func (f *frames) onlineOf(app string, ids []string) []string {
	var on []string
	for _, u := range ids {
		if f.presence.Present(app, onlineChannel, u) {
			on = append(on, u)
		}
	}
	return on
}

// rewatch replaces the watchlist of a signed-in connection (a watchlist
// control message from the API) and tells it what changes for it: the
// newly watched users who are online come "online", and the users no longer
// watched who were online go "offline", so that a client that keeps the set
// of online users from these events holds exactly the online users of its
// new list.
func (f *frames) rewatch(c *client, watch []string) {
	added, removed, ok := f.setWatchlist(c, watch)
	if !ok {
		return
	}
	app := c.app().Key
	if on := f.onlineOf(app, added); len(on) > 0 {
		c.send(watchlistFrame("online", on))
	}
	if off := f.onlineOf(app, removed); len(off) > 0 {
		c.send(watchlistFrame("offline", off))
	}
}

// rewatchLocal replaces the watchlist of this node's connections signed in
// as a user (a watchlist control message, sent by the API of any node).
func (g *Gateway) rewatchLocal(app string, data []byte) {
	var m bus.WatchlistControl
	if err := json.Unmarshal(data, &m); err != nil || m.UserID == "" || len(m.Watchlist) > maxWatchlist {
		g.log.Warn("watchlist control message ignored", slog.String("app", app), slog.Int("bytes", len(data)))
		return
	}
	g.clients.each(func(c *client) {
		if c.app().Key == app && c.user() == m.UserID {
			g.frames.rewatch(c, m.Watchlist)
		}
	})
}

// offline undoes online when a signed-in connection closes.
func (f *frames) offline(c *client) {
	c.mu.Lock()
	id, watch := c.userID, c.watchlist
	c.mu.Unlock()
	if id == "" {
		return
	}
	f.watchers.remove(c.app().Key, watch, c)
	ctx, cancel := context.WithTimeout(f.ctx, storeTimeout)
	defer cancel()
	if err := f.presence.Leave(ctx, c.app().Key, onlineChannel, c.socketID); err != nil {
		f.log.Warn("online status", slog.String("app", c.app().Key), slog.Any("err", err))
	}
}

// tell sends the local watchers of userID that it came online or went
// offline (name) anywhere in the cluster.
func (w *watchers) tell(app, name, userID string) {
	cs := w.of(app, userID)
	if len(cs) == 0 {
		return
	}
	frame := watchlistFrame(name, []string{userID})
	for _, c := range cs {
		c.send(frame)
	}
}

func watchlistFrame(name string, ids []string) []byte {
	b := []byte(`{"events":[{"name":`)
	b = protocol.AppendJSONString(b, name)
	b = append(b, `,"user_ids":[`...)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = protocol.AppendJSONString(b, id)
	}
	b = append(b, `]}]}`...)
	return protocol.EventFrame("pusher_internal:watchlist_events", "", string(b), "")
}
