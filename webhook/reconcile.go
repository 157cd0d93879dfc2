package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushd/pushd/gateway/protocol"
)

// Reconcile reports what changed while no node was watching. Presence keys
// expire on their TTL; when every node was down at that moment (a single
// node that crashed and came back later), nobody saw those transitions, and
// the app's backend would believe its users online forever. So a channel
// last reported occupied that Options.State finds empty, and a member last
// reported present that it finds absent, get their channel_vacated and
// member_removed now, through the usual Delay: a client that comes back
// within it undoes them, as with a page reload. Call it once the presence
// view is built. Every node may call it: the jobs of one reported state
// carry one id, so they are stored once. It returns how many it enqueued.
func (d *Dispatcher) Reconcile(ctx context.Context) (int, error) {
	if d.opts.State == nil {
		return 0, nil
	}
	keys, err := d.kv.ListKeys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("webhook reconcile: list reported states: %w", err)
	}
	defer keys.Stop()
	n := 0
	for key := range keys.Keys() {
		e, err := d.kv.Get(ctx, key)
		if err != nil {
			continue // deleted or expired meanwhile
		}
		var r reported
		if json.Unmarshal(e.Value(), &r) != nil {
			continue
		}
		app, ev, ok := d.states.gone(key, r.State)
		if !ok {
			continue
		}
		id := "reconcile." + key + "." + strconv.FormatUint(e.Revision(), 10)
		if err := d.Enqueue(ctx, app, ev, id); err != nil {
			return n, fmt.Errorf("webhook reconcile: %w", err)
		}
		n++
	}
	return n, nil
}

// gone returns the event that reports a reported state as over, if the
// presence view says it is: channel_vacated for an "occupied" channel that
// has no subscriber, member_removed for a "present" user who is absent,
// user_offline for an "online" user who is signed in nowhere.
func (r *states) gone(key, state string) (string, Event, bool) {
	n, ok := parseStateKey(key)
	st := r.state
	switch {
	case !ok:
	case n.kind == keyChannel && state == stateOccupied && !st.Occupied(n.app, n.channel):
		return n.app, Event{Name: ChannelVacated, Channel: n.channel}, true
	case n.kind == keyMember && state == statePresent && !st.Present(n.app, n.channel, n.user):
		return n.app, Event{Name: MemberRemoved, Channel: n.channel, UserID: n.user}, true
	case n.kind == keyUser && state == stateOnline && !st.Present(n.app, protocol.OnlineChannel, n.user):
		return n.app, Event{Name: UserOffline, UserID: n.user}, true
	}
	return "", Event{}, false
}
