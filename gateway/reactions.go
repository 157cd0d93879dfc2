package gateway

import (
	"strconv"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/presence"
	"github.com/pushd/pushd/webhook"
)

// reactions is a node's presence.Listener: the tracker tells every node of
// each cluster-wide change (a channel occupied or vacated, a member added
// or removed, a subscriber count changed), and reactions turns it into what
// this node's sockets must see (member events to local subscribers,
// online/offline to local watchers, subscription_count frames: subcount.go)
// and into the matching webhook reports, which the webhook package decides
// on. Every node reports a change under the same id, so it is stored once.
type reactions struct {
	node     string
	apps     *apps.Table
	hub      *hub
	presence Presence
	watchers *watchers
	webhooks Webhooks
	counts   subCounts
}

func newReactions(node string, t *apps.Table, h *hub, p Presence, w *watchers, hooks Webhooks) *reactions {
	r := &reactions{node: node, apps: t, hub: h, presence: p, watchers: w, webhooks: hooks}
	r.counts.m = map[chanKey]*countState{}
	return r
}

// transitionID names a presence transition the same way on every node.
func transitionID(kind, app, ch string, rev uint64) string {
	return kind + "/" + app + "/" + ch + "/" + strconv.FormatUint(rev, 10)
}

// Occupied is told that a channel got its first subscriber anywhere.
func (r *reactions) Occupied(app, ch string, rev uint64) {
	r.webhooks.Report(app, webhook.Event{Name: webhook.ChannelOccupied, Channel: ch}, transitionID("occupied", app, ch, rev))
}

// Vacated is told that a channel lost its last subscriber anywhere.
func (r *reactions) Vacated(app, ch string, rev uint64) {
	r.webhooks.Report(app, webhook.Event{Name: webhook.ChannelVacated, Channel: ch}, transitionID("vacated", app, ch, rev))
}

// MemberAdded tells local subscribers of a presence channel that a user's
// first connection joined, or local watchers that a user came online (and
// reports user_online).
func (r *reactions) MemberAdded(app, ch string, m presence.Member, by presence.Socket, rev uint64) {
	if ch == onlineChannel {
		r.watchers.tell(app, "online", m.UserID)
		r.webhooks.Report(app, webhook.Event{Name: webhook.UserOnline, UserID: m.UserID},
			transitionID("online", app, m.UserID, rev))
		return
	}
	b := []byte(`{"user_id":`)
	b = protocol.AppendJSONString(b, m.UserID)
	b = append(b, `,"user_info":`...)
	b = appendInfo(b, m.UserInfo)
	b = append(b, '}')
	exclude := ""
	if by.Node == r.node {
		exclude = by.ID // the joining socket has the list already
	}
	r.hub.deliver(delivery{Delivery: bus.Delivery{App: app, Channel: ch,
		Frame: protocol.EventFrame("pusher_internal:member_added", ch, string(b), ""), Exclude: exclude}, rev: rev})
	r.webhooks.Report(app, webhook.Event{Name: webhook.MemberAdded, Channel: ch, UserID: m.UserID},
		transitionID("added", app, ch+"/"+m.UserID, rev))
}

// MemberRemoved tells local subscribers that a user's last connection left,
// or local watchers that a user went offline (and reports user_offline).
func (r *reactions) MemberRemoved(app, ch, userID string, rev uint64) {
	if ch == onlineChannel {
		r.watchers.tell(app, "offline", userID)
		r.webhooks.Report(app, webhook.Event{Name: webhook.UserOffline, UserID: userID},
			transitionID("offline", app, userID, rev))
		return
	}
	b := protocol.AppendJSONString([]byte(`{"user_id":`), userID)
	b = append(b, '}')
	r.hub.deliver(delivery{Delivery: bus.Delivery{App: app, Channel: ch,
		Frame: protocol.EventFrame("pusher_internal:member_removed", ch, string(b), "")}, rev: rev})
	r.webhooks.Report(app, webhook.Event{Name: webhook.MemberRemoved, Channel: ch, UserID: userID},
		transitionID("removed", app, ch+"/"+userID, rev))
}

// CountChanged is told a channel's new subscriber count: it reports the
// subscription_count webhook and schedules the count frame to this node's
// subscribers.
func (r *reactions) CountChanged(app, ch string, count int, rev uint64) {
	n := count
	r.webhooks.Report(app, webhook.Event{Name: webhook.SubscriptionCount, Channel: ch, SubscriptionCount: &n},
		transitionID("count", app, ch, rev))
	r.noteCount(app, ch, count, true)
}
