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
	After(ctx context.Context, app, channel string, from, to uint64, max int) ([]bus.Delivery, error)
	FirstSeq(ctx context.Context, app string) (uint64, error)
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

// Webhooks takes the changes webhooks may report; *webhook.Dispatcher is
// the implementation, and it decides what is sent. Report never blocks. The
// id makes a change that several nodes report count once.
type Webhooks interface {
	Report(app string, ev webhook.Event, id string)
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

	subCounts subCounts // subscription_count client events waiting or recent
	drain     atomic.Bool
	authFails *authFailures // failed API authentications per address

	sockets      atomic.Int64 // open sockets of the WebSocket port, handshakes included
	maxSockets   int          // the server-wide max_connections, resolved
	socketWarned atomic.Int64 // when the last refusal for maxSockets was logged (unix ns)
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
	files := openFileLimit()
	limit, err := socketLimit(cfg.MaxConnections, files)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g.maxSockets = limit
	if def, _ := socketLimit(0, files); limit > def {
		g.log.Warn("max_connections leaves few open files to NATS and the API: accepts may fail with too many open files",
			slog.Int("max_connections", limit), slog.Uint64("open_file_limit", files))
	}
	g.log.Info("websocket connection limit", slog.Int("max_connections", limit), slog.Uint64("open_file_limit", files))
	g.metrics.Gauge("pushd_sockets", "Open sockets of the WebSocket port, handshakes included.", func() float64 { return float64(g.sockets.Load()) })
	g.metrics.Gauge("pushd_sockets_max", "The most sockets the WebSocket port holds (max_connections).", func() float64 { return float64(g.maxSockets) })
	table := newApps(cfg.Apps, nil, g.metrics)
	g.apps.Store(&table)
	g.hub.channelsChanged = func(appKey string, delta int) {
		if a := g.app(appKey); a != nil {
			a.rt.m.Channels.Add(float64(delta))
		}
	}
	g.clients.init()
	g.subCounts.m = map[chanKey]*countState{}
	if err := g.broker.SubscribeControl(controlTerminate, g.terminateLocal); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if err := g.broker.SubscribeControl(controlQuota, g.quotaReported); err != nil {
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
			c.fail(protocol.CodeAppNotFound, "application removed from the server's config: check new Push({app_key})")
		case a.Disabled:
			c.fail(protocol.CodeAppDisabled, msgAppDisabled)
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

// Run checks liveness of idle clients and reports this node's use of the
// API quotas to the other gateways until ctx ends.
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
	quota := time.NewTicker(quotaReportInterval)
	defer quota.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			g.checkLiveness(now)
		case <-quota.C:
			g.reportQuota()
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
			c.fail(protocol.CodeUnauthorized, "not authorized within user_authentication_timeout: sign in or subscribe to a private- or presence- channel sooner")
			return
		}
		if sent := c.pingSent.Load(); sent != 0 {
			if n-sent > pongWait {
				c.fail(protocol.CodePongNotReceived, "pong not received within pong_timeout: the client stopped answering pings; reconnect")
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
	g.clients.each(func(c *client) { c.fail(protocol.CodeReconnect, msgShuttingDown) })
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
