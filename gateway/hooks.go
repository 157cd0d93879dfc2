package gateway

import (
	"strconv"

	"github.com/pushd/pushd/presence"
	"github.com/pushd/pushd/webhook"
)

// hook reports a change to the webhooks; webhook.Dispatcher.Report decides
// whether the app gets it. Every node reports a cluster-wide change under
// the same id, so the queue stores it once.
func (g *Gateway) hook(appKey string, ev webhook.Event, id string) {
	if g.webhooks != nil {
		g.webhooks.Report(appKey, ev, id)
	}
}

// transitionID names a presence transition the same way on every node.
func transitionID(kind, app, ch string, rev uint64) string {
	return kind + "/" + app + "/" + ch + "/" + strconv.FormatUint(rev, 10)
}

// Occupied is called when a channel gets its first subscriber anywhere
// (presence.Listener).
func (g *Gateway) Occupied(app, ch string, rev uint64) {
	g.hook(app, webhook.Event{Name: webhook.ChannelOccupied, Channel: ch}, transitionID("occupied", app, ch, rev))
}

// Vacated is called when a channel loses its last subscriber anywhere.
func (g *Gateway) Vacated(app, ch string, rev uint64) {
	g.hook(app, webhook.Event{Name: webhook.ChannelVacated, Channel: ch}, transitionID("vacated", app, ch, rev))
}

func (g *Gateway) memberAddedHook(app, ch string, m presence.Member, rev uint64) {
	g.hook(app, webhook.Event{Name: webhook.MemberAdded, Channel: ch, UserID: m.UserID}, transitionID("added", app, ch+"/"+m.UserID, rev))
}

func (g *Gateway) memberRemovedHook(app, ch, userID string, rev uint64) {
	g.hook(app, webhook.Event{Name: webhook.MemberRemoved, Channel: ch, UserID: userID}, transitionID("removed", app, ch+"/"+userID, rev))
}

// uniqueID names an event that only one node sees (client events, cache
// misses): the socket id is unique in the cluster.
func (g *Gateway) uniqueID(kind, socketID string) string {
	return kind + "/" + socketID + "/" + strconv.FormatUint(g.nextID.Add(1), 10)
}

// countHook reports a channel's new subscription count (every node sees
// it; the webhook package decides whether it is sent).
func (g *Gateway) countHook(app, ch string, count int, rev uint64) {
	n := count
	g.hook(app, webhook.Event{Name: webhook.SubscriptionCount, Channel: ch, SubscriptionCount: &n}, transitionID("count", app, ch, rev))
}
