package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"

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
	c.mu.Lock()
	c.watchlist = watch
	c.mu.Unlock()
	if len(watch) == 0 {
		return
	}
	f.watchers.add(c.app().Key, watch, c)
	var on []string
	for _, u := range watch {
		if f.presence.Present(c.app().Key, onlineChannel, u) {
			on = append(on, u)
		}
	}
	if len(on) > 0 {
		c.send(watchlistFrame("online", on))
	}
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
