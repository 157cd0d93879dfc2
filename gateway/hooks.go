package gateway

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/pushd/pushd/presence"
	"github.com/pushd/pushd/webhook"
)

// hook queues a webhook event for an app that has somewhere to send it.
// Every node reports a cluster-wide change under the same id, so the queue
// stores it once.
func (g *Gateway) hook(appKey string, ev webhook.Event, id string) {
	if g.webhooks == nil || strings.HasPrefix(ev.Channel, "#") { // '#': internal channels
		return
	}
	a := g.app(appKey)
	if a == nil || (a.WebhookURL == "" && a.ChannelHookURL == "" && a.UserHookURL == "") || !wanted(a, ev.Name) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := g.webhooks.Enqueue(ctx, appKey, ev, id); err != nil {
		g.log.Error("queue webhook", slog.String("app", appKey), slog.String("event", ev.Name),
			slog.String("channel", ev.Channel), slog.Any("err", err))
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

// wanted applies the app's webhook event filter (either naming, see
// webhook.Wanted). subscription_count is opt-in (it fires on every
// subscribe): only the app's subscription counting switch, an explicit
// filter naming it, sends it.
func wanted(a *app, name string) bool {
	if name == webhook.SubscriptionCount {
		return a.SubscriptionCounting()
	}
	return webhook.Wanted(a.WebhookEvents, name)
}

// uniqueID names an event that only one node sees (client events, cache
// misses): the socket id is unique in the cluster.
func (g *Gateway) uniqueID(kind, socketID string) string {
	return kind + "/" + socketID + "/" + strconv.FormatUint(g.nextID.Add(1), 10)
}

// countHook queues a subscription_count webhook for a public or private
// channel (Pusher sends none for presence channels, which have member
// events); above countLarge subscribers a channel reports at most every
// countEveryLarge, as Pusher does.
func (g *Gateway) countHook(app, ch string, count int, rev uint64) {
	if g.webhooks == nil || !g.counting(app, ch) {
		return
	}
	now := time.Now()
	k := chanKey{app, ch}
	g.countMu.Lock()
	last, seen := g.countSent[k]
	switch {
	case count == 0:
		delete(g.countSent, k)
	case count > countLarge && seen && now.Sub(last) < countEveryLarge:
		g.countMu.Unlock()
		return
	default:
		g.countSent[k] = now
	}
	g.countMu.Unlock()
	n := count
	g.hook(app, webhook.Event{Name: webhook.SubscriptionCount, Channel: ch, SubscriptionCount: &n}, transitionID("count", app, ch, rev))
}
