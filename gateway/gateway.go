// Package gateway is the socket door of a node: WebSocket clients on gws
// speaking the Pusher Channels protocol. It turns client frames into bus and
// presence operations, fans stored events out to the local subscribers of
// each channel (hub.go), and reacts to presence changes the cluster reports
// (reactions.go). The HTTP API (gateway/api) and the console
// (gateway/console) are doors of their own.
package gateway

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/metrics"
	"github.com/pushd/pushd/presence"
	"github.com/pushd/pushd/webhook"
)

// Broker delivers events to the sockets and reads the stream for them;
// *bus.Bus is the implementation.
type Broker interface {
	Relay(app string, o bus.Outgoing) error
	Subscribe(app, channel string) (*bus.Subscription, error)
	Last(ctx context.Context, app, channel string) (bus.Stored, error)
	Replay(ctx context.Context, app, channel string, from uint64, limit int) (*bus.Replay, error)
	LastSeq(ctx context.Context, app string) (uint64, error)
	SubscribeControl(kind string, f func(app string, data []byte)) error
	Notify(app, kind string, data []byte) error
}

// Unsubscriber ends a channel interest.
type Unsubscriber interface{ Unsubscribe() error }

// Presence keeps members and occupancy cluster-wide; *presence.Tracker is
// the implementation.
type Presence interface {
	Join(ctx context.Context, app, channel, socket string, m presence.Member) error
	Leave(ctx context.Context, app, channel, socket string) error
	SetCount(app, channel string, n int)
	MembersAt(app, channel string) ([]presence.Member, uint64)
	UserCount(app, channel string) int
	Present(app, channel, userID string) bool
	SubscriptionCount(app, channel string) int
}

// Webhooks takes the changes webhooks may report; *webhook.Dispatcher is
// the implementation, and it decides what is sent. Report never blocks. The
// id makes a change that several nodes report count once.
type Webhooks interface {
	Report(app string, ev webhook.Event, id string)
}

// noWebhooks is the Webhooks of a node without a dispatcher.
type noWebhooks struct{}

func (noWebhooks) Report(string, webhook.Event, string) {}

// Deps are what a gateway is built on.
type Deps struct {
	// Node names this gateway in the cluster (NewNodeID).
	Node string
	// Apps is the app table, shared with the API and the webhooks.
	Apps     *apps.Table
	Broker   Broker
	Presence Presence
	// Webhooks may be nil: no webhooks are sent.
	Webhooks Webhooks
	// Static serves files (the client libraries) on the WebSocket port too;
	// may be nil.
	Static *http.ServeMux
	// Metrics receives the gateway's metrics; nil keeps them unexported.
	Metrics *metrics.Metrics
	Logger  *slog.Logger
}

// NewNodeID returns a random node id, also the first part of socket ids.
func NewNodeID() string { return strconv.FormatUint(uint64(rand.Uint32N(1_000_000_000)), 10) }

// Gateway is the WebSocket front of one node.
type Gateway struct {
	ctx       context.Context // from main: ends every NATS call at shutdown
	cfg       config.Config
	apps      *apps.Table
	metrics   *metrics.Metrics
	presence  Presence // the connection counts of max_connections
	static    *http.ServeMux
	hub       *hub
	frames    *frames
	reactions *reactions
	log       *slog.Logger
	logs      *sockLog // per-connection lines: routine at debug, refusals limited
	feed      feed     // connections opened and closed, for the consoles watching
	node      string
	nextID    atomic.Uint64
	clients   registry
	drain     atomic.Bool

	sockets      atomic.Int64 // open sockets of the WebSocket port, handshakes included
	maxSockets   int          // the server-wide max_connections, resolved
	socketWarned atomic.Int64 // when the last refusal for maxSockets was logged (unix ns)
}

// New builds a gateway for the apps of d.Apps. ctx bounds every call the
// gateway makes to NATS on behalf of its sockets: cancel it after Shutdown.
func New(ctx context.Context, cfg config.Config, d Deps) (*Gateway, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Node == "" {
		d.Node = NewNodeID()
	}
	if d.Metrics == nil {
		d.Metrics = metrics.New()
	}
	if d.Apps == nil {
		d.Apps = apps.NewTable(cfg.Apps, d.Metrics)
	}
	if d.Webhooks == nil {
		d.Webhooks = noWebhooks{}
	}
	g := &Gateway{
		ctx:      ctx,
		cfg:      cfg,
		apps:     d.Apps,
		metrics:  d.Metrics,
		presence: d.Presence,
		static:   d.Static,
		hub:      newHub(d.Broker, d.Presence.SetCount),
		log:      d.Logger,
		logs:     newSockLog(ctx, d.Logger),
		node:     d.Node,
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
	g.hub.linger = cfg.WindowLinger()
	g.hub.channelsChanged = func(appKey string, delta int) {
		if a := g.apps.Get(appKey); a != nil {
			a.Metrics.Channels.Add(float64(delta))
		}
	}
	g.clients.init()
	w := &watchers{}
	g.reactions = newReactions(g.node, d.Apps, g.hub, d.Presence, w, d.Webhooks)
	g.frames = &frames{ctx: ctx, node: g.node, broker: d.Broker, presence: d.Presence, hub: g.hub,
		reactions: g.reactions, watchers: w, webhooks: d.Webhooks, log: g.log, logs: g.logs}
	if err := d.Broker.SubscribeControl(bus.ControlTerminate, g.terminateLocal); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if err := d.Broker.SubscribeControl(bus.ControlWatchlist, g.rewatchLocal); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g.feed = feed{notify: d.Broker.Notify, node: cmp.Or(cfg.NodeName, g.node)}
	for kind, f := range map[string]func(string, []byte){bus.ControlWatch: g.watchControl, bus.ControlDisconnect: g.disconnectControl} {
		if err := d.Broker.SubscribeControl(kind, f); err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
	}
	return g, nil
}

// app returns the app with a key, or nil.
func (g *Gateway) app(key string) *app { return g.apps.Get(key) }

// Listener is what the presence tracker tells of cluster-wide changes.
func (g *Gateway) Listener() presence.Listener { return g.reactions }

// Draining tells that Shutdown began: the node takes no new connections.
func (g *Gateway) Draining() bool { return g.drain.Load() }

// Reload installs new app settings in the shared table. Connections stay
// open and follow the new limits; connections of an app that is gone or
// disabled are closed.
func (g *Gateway) Reload(list []config.App) {
	old := g.apps.Replace(list)
	table := g.apps.All()
	g.clients.each(func(c *client) {
		a := table[c.app().Key]
		switch {
		case a == nil:
			c.fail(protocol.CodeAppNotFound, "application deleted: check new Push({app_key}) against the server's apps")
		case a.Disabled:
			c.fail(protocol.CodeAppDisabled, msgAppDisabled)
		default:
			c.appPtr.Store(a)
		}
	})
	g.logChanges(old, table)
}

// manyChanges is how many app changes Reload logs one by one; beyond, one
// line counts them (a gateway starting with 10,000 apps adds them all).
const manyChanges = 20

// logChanges logs the apps removed, added and changed by a reload.
func (g *Gateway) logChanges(old, table map[string]*app) {
	var removed, added, changed []string
	for key := range old {
		if table[key] == nil {
			removed = append(removed, key)
		}
	}
	for key, a := range table {
		if prev := old[key]; prev == nil {
			added = append(added, key)
		} else if !reflect.DeepEqual(prev.App, a.App) {
			changed = append(changed, key)
		}
	}
	if len(removed)+len(added)+len(changed) > manyChanges {
		g.log.Info("apps changed", slog.Int("added", len(added)), slog.Int("removed", len(removed)),
			slog.Int("changed", len(changed)), slog.Int("apps", len(table)))
		return
	}
	for _, key := range removed {
		g.log.Info("app removed", slog.String("app", key))
	}
	for _, key := range added {
		g.log.Info("app added", slog.String("app", key))
	}
	for _, key := range changed {
		g.log.Info("app settings changed", slog.String("app", key))
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
