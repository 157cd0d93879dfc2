// Package gateway speaks the Pusher Channels protocol: WebSocket clients on
// gws and the signed HTTP API. It turns client frames and API calls into bus
// operations and delivers stored events to local sockets.
package gateway

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/metrics"
	"github.com/pushd/pushd/presence"
	"github.com/pushd/pushd/webhook"
)

// Broker stores and delivers events; *bus.Bus is the implementation.
type Broker interface {
	Publish(ctx context.Context, app string, evs ...bus.Outgoing) ([]uint64, error)
	Relay(app string, o bus.Outgoing) error
	Subscribe(app, channel string) (*bus.Subscription, error)
	Last(ctx context.Context, app, channel string) (bus.Stored, error)
	Replay(ctx context.Context, app, channel string, from uint64, limit int) (*bus.Replay, error)
	LastSeq(ctx context.Context, app string) (uint64, error)
	Tap(app string, f func(bus.Delivery)) (func(), error)
	PublishControl(app, kind string, data []byte) error
	SubscribeControl(kind string, f func(app string, data []byte)) error
	Ready() error
	Healthy(ctx context.Context) error
}

// Unsubscriber ends a channel interest.
type Unsubscriber interface{ Unsubscribe() error }

// Presence keeps members and occupancy cluster-wide; *presence.Tracker is
// the implementation.
type Presence interface {
	Join(ctx context.Context, app, channel, socket string, m presence.Member) error
	Leave(ctx context.Context, app, channel, socket string) error
	SetCount(app, channel string, n int)
	Members(app, channel string) []presence.Member
	MembersAt(app, channel string) ([]presence.Member, uint64)
	UserCount(app, channel string) int
	Present(app, channel, userID string) bool
	SubscriptionCount(app, channel string) int
	Channels(app, prefix string) ([]string, map[string]int)
	Healthy() error
}

// Webhooks queues webhook events; *webhook.Dispatcher is the
// implementation. The id makes a change that several nodes report count once.
type Webhooks interface {
	Enqueue(ctx context.Context, app string, ev webhook.Event, id string) error
}

// Deps are what a gateway is built on.
type Deps struct {
	// Node names this gateway in the cluster (NewNodeID).
	Node     string
	Broker   Broker
	Presence Presence
	// Webhooks may be nil: no webhooks are sent.
	Webhooks Webhooks
	// Static serves files (the client libraries) on both ports; may be nil.
	Static *http.ServeMux
	// Metrics receives the gateway's metrics; nil keeps them unexported.
	Metrics *metrics.Metrics
	Logger  *slog.Logger
}

// NewNodeID returns a random node id, also the first part of socket ids.
func NewNodeID() string { return strconv.FormatUint(uint64(rand.Uint32N(1_000_000_000)), 10) }

// Gateway is the protocol front of one node.
type Gateway struct {
	cfg      config.Config
	apps     atomic.Pointer[apps]
	metrics  *metrics.Metrics
	broker   Broker
	presence Presence
	webhooks Webhooks
	static   *http.ServeMux
	hub      *hub
	log      *slog.Logger
	node     string
	nextID   atomic.Uint64
	clients  registry
	watchers watchers

	countMu   sync.Mutex
	countSent map[chanKey]time.Time // last subscription_count webhook per channel
	subCounts subCounts             // subscription_count client events waiting or recent
	drain     atomic.Bool
	authFails *authFailures // failed API authentications per address
}

// New builds a gateway for the apps in cfg.
func New(cfg config.Config, d Deps) (*Gateway, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Node == "" {
		d.Node = NewNodeID()
	}
	g := &Gateway{
		cfg:       cfg,
		metrics:   d.Metrics,
		broker:    d.Broker,
		presence:  d.Presence,
		webhooks:  d.Webhooks,
		static:    d.Static,
		hub:       newHub(d.Broker, d.Presence.SetCount),
		log:       d.Logger,
		node:      d.Node,
		authFails: newAuthFailures(cfg.APIAuthFailuresPerSec),
	}
	if g.metrics == nil {
		g.metrics = metrics.New()
	}
	table := newApps(cfg.Apps, nil, g.metrics)
	g.apps.Store(&table)
	g.hub.linger = cfg.WindowLinger()
	g.hub.channelsChanged = func(appKey string, delta int) {
		if a := g.app(appKey); a != nil {
			a.rt.m.Channels.Add(float64(delta))
		}
	}
	g.clients.init()
	g.countSent = map[chanKey]time.Time{}
	g.subCounts.m = map[chanKey]*countState{}
	if err := g.broker.SubscribeControl(controlTerminate, g.terminateLocal); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	return g, nil
}

// app returns the app with a key, or nil.
func (g *Gateway) app(key string) *app { return (*g.apps.Load())[key] }

// Reload replaces the apps' settings. Connections stay open and follow the
// new limits; connections of an app that is gone or disabled are closed.
func (g *Gateway) Reload(list []config.App) {
	old := *g.apps.Load()
	table := newApps(list, old, g.metrics)
	g.apps.Store(&table)
	g.clients.each(func(c *client) {
		a := table[c.app().Key]
		switch {
		case a == nil:
			c.fail(protocol.CodeAppNotFound, "application removed")
		case a.Disabled:
			c.fail(protocol.CodeAppDisabled, "application is disabled")
		default:
			c.appPtr.Store(a)
		}
	})
	for key := range old {
		if table[key] == nil {
			g.log.Info("app removed", slog.String("app", key))
		}
	}
	for key, a := range table {
		if prev := old[key]; prev == nil {
			g.log.Info("app added", slog.String("app", key))
		} else if !reflect.DeepEqual(prev.App, a.App) {
			g.log.Info("app settings changed", slog.String("app", key))
		}
	}
}

// Deliver hands a stored event to the local subscribers of its channel.
func (g *Gateway) Deliver(d bus.Delivery) {
	if !d.Stored.IsZero() {
		g.metrics.Latency.Observe(time.Since(d.Stored).Seconds())
	}
	d.Frame = protocol.WithSeq(d.Frame, d.Seq)
	g.hub.deliver(delivery{Delivery: d})
}

// newSocketID returns a cluster-unique id of the form node.counter.
func (g *Gateway) newSocketID() string {
	return g.node + "." + strconv.FormatUint(g.nextID.Add(1), 10)
}

// Run checks liveness of idle clients until ctx ends.
func (g *Gateway) Run(ctx context.Context) {
	tick := g.cfg.PongTimeout / 4
	if tick > 5*time.Second {
		tick = 5 * time.Second
	}
	if tick < 100*time.Millisecond {
		tick = 100 * time.Millisecond
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			g.checkLiveness(now)
		}
	}
}

// checkLiveness pings clients idle for their app's activity timeout and
// closes those that did not answer within the pong timeout (4201).
func (g *Gateway) checkLiveness(now time.Time) {
	n := now.UnixNano()
	pongWait := g.cfg.PongTimeout.Nanoseconds()
	g.clients.each(func(c *client) {
		if t := c.app().UserAuthTimeout; t > 0 && !c.authorized.Load() && n-c.opened > t.Nanoseconds() {
			c.fail(protocol.CodeUnauthorized, "connection not authorized within the timeout: sign in or subscribe to a private channel")
			return
		}
		if sent := c.pingSent.Load(); sent != 0 {
			if n-sent > pongWait {
				c.fail(protocol.CodePongNotReceived, "pong reply not received")
			}
			return
		}
		if n-c.lastSeen.Load() > int64(c.app().ActivityTimeout)*int64(time.Second) {
			c.pingSent.Store(n)
			c.send(pingFrame)
		}
	})
}

// Shutdown asks every client to reconnect (4200) and waits, up to ctx, for
// their sockets to close.
func (g *Gateway) Shutdown(ctx context.Context) {
	g.drain.Store(true)
	g.clients.each(func(c *client) { c.fail(protocol.CodeReconnect, "server shutting down, reconnect") })
	for g.clients.len() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// registry is the set of open clients, sharded to keep connects cheap.
type registry struct {
	seed   maphash.Seed
	shards [16]struct {
		mu sync.Mutex
		m  map[*client]struct{}
	}
}

func (r *registry) init() {
	r.seed = maphash.MakeSeed()
	for i := range r.shards {
		r.shards[i].m = map[*client]struct{}{}
	}
}

func (r *registry) shard(c *client) int {
	return int(maphash.String(r.seed, c.socketID) % uint64(len(r.shards)))
}

func (r *registry) add(c *client) {
	s := &r.shards[r.shard(c)]
	s.mu.Lock()
	s.m[c] = struct{}{}
	s.mu.Unlock()
}

func (r *registry) remove(c *client) {
	s := &r.shards[r.shard(c)]
	s.mu.Lock()
	delete(s.m, c)
	s.mu.Unlock()
}

func (r *registry) len() int {
	n := 0
	for i := range r.shards {
		r.shards[i].mu.Lock()
		n += len(r.shards[i].m)
		r.shards[i].mu.Unlock()
	}
	return n
}

// each calls f for every client; f must not block.
func (r *registry) each(f func(*client)) {
	var batch []*client
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		batch = batch[:0]
		for c := range s.m {
			batch = append(batch, c)
		}
		s.mu.Unlock()
		for _, c := range batch {
			f(c)
		}
	}
}
