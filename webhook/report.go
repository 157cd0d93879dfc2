package webhook

import (
	"strings"
	"sync"
	"time"

	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/protocol"
)

// Report hands one change of an app to its webhooks and returns at once. It
// is the one place that decides whether a change becomes a webhook job:
// internal '#' channels never do (user_online and user_offline, reported
// for the internal #online channel's members, carry no channel);
// subscription_count only for an app that
// counts subscriptions, on channels that have a count, and for a large
// channel at most every countEveryLarge; every other event when one of the
// app's endpoints takes it after its filter, or when it is a state event
// whose opposite one does (it must still move the reported state, or a
// filter that keeps only channel_occupied would suppress every occupied
// after the first). A non-empty id de-duplicates the job across nodes, as
// with Enqueue. The job is stored by a worker (see queue.go), never on the
// caller's goroutine.
func (d *Dispatcher) Report(appKey string, ev Event, id string) {
	if !ev.complete() || strings.HasPrefix(ev.Channel, "#") {
		return
	}
	app, ok := d.opts.Apps(appKey)
	if !ok || !d.wants(app, ev) {
		return
	}
	if dropped, logNow := d.queue.push(report{app: appKey, ev: ev, id: id}); dropped && logNow {
		d.log.Error("webhook queue full: reports are dropped until JetStream stores again",
			"app", appKey, "event", ev.Name, "dropped_total", d.queue.dropped.Load())
	}
}

// wants tells whether app takes ev, or must see it to keep its state.
func (d *Dispatcher) wants(app config.App, ev Event) bool {
	if ev.Name == SubscriptionCount {
		if !app.SubscriptionCounting() || !protocol.KindOf(ev.Channel).HasSubscriptionCount() || ev.SubscriptionCount == nil {
			return false
		}
		if !d.counts.due(app.Key, ev.Channel, *ev.SubscriptionCount, time.Now()) {
			return false
		}
	}
	return wanted(&app, ev) || recordsOnly(&app, ev)
}

// Above countLarge subscribers a channel's subscription_count webhook is
// sent at most every countEveryLarge, as Pusher does.
const (
	countLarge      = 100
	countEveryLarge = 5 * time.Second
)

// countGate remembers when each large channel last reported its count.
type countGate struct {
	mu   sync.Mutex
	sent map[[2]string]time.Time
}

// due reports whether a count of n for a channel may be sent at now.
func (g *countGate) due(app, channel string, n int, now time.Time) bool {
	k := [2]string{app, channel}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sent == nil {
		g.sent = map[[2]string]time.Time{}
	}
	last, seen := g.sent[k]
	switch {
	case n == 0:
		delete(g.sent, k)
	case n > countLarge && seen && now.Sub(last) < countEveryLarge:
		return false
	default:
		g.sent[k] = now
	}
	return true
}
