package gateway

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
)

// storeTimeout bounds one call to NATS made for a socket.
const storeTimeout = 10 * time.Second

// frames acts on the frames of every client of a node: subscribe and
// unsubscribe (subscribe.go), client events (clientevent.go) and signin
// (signin.go). gws runs a connection's frames one at a time, off its read
// loop; nothing here waits for anything but the NATS calls a subscription
// needs (the presence join, a cache or resume read), and webhook reports
// are handed off without waiting.
type frames struct {
	ctx       context.Context // from main: a shutdown ends the calls in flight
	node      string
	broker    Broker
	presence  Presence
	hub       *hub
	reactions *reactions
	watchers  *watchers
	webhooks  Webhooks
	log       *slog.Logger
	nextID    atomic.Uint64
	logs      *sockLog // the connection lines (refusals limited per address)
}

// handle acts on one text frame from a client.
func (f *frames) handle(c *client, b []byte) {
	fr, err := protocol.ParseFrame(b)
	if err != nil {
		c.errorFrame(protocol.CodeInvalidMessage, "", err.Error()+": send each message as a JSON object with an \"event\" field")
		return
	}
	switch fr.Event {
	case "pusher:ping":
		c.send(protocol.PongFrame)
	case "pusher:pong":
	case "pusher:subscribe":
		f.subscribe(c, fr)
	case "pusher:unsubscribe":
		f.unsubscribe(c, fr)
	case "pusher:signin":
		f.signin(c, fr)
	default:
		if strings.HasPrefix(fr.Event, "client-") {
			f.clientEvent(c, fr)
			return
		}
		c.errorFrame(protocol.CodeInvalidMessage, fr.Channel, "unsupported event "+truncate(fr.Event, 64)+": clients send pusher:subscribe, pusher:unsubscribe, pusher:ping, pusher:signin or client- events")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// uniqueID names an event that only one node sees (client events, cache
// misses): the socket id is unique in the cluster.
func (f *frames) uniqueID(kind, socketID string) string {
	return kind + "/" + socketID + "/" + strconv.FormatUint(f.nextID.Add(1), 10)
}

// closed ends what a closed client had: its subscriptions and its online
// status.
func (f *frames) closed(c *client) {
	c.mu.Lock()
	subs := c.subs
	c.subs = subSet{}
	c.mu.Unlock()
	subs.each(func(ch string, sub *subscription) { f.drop(c, ch, sub) })
	f.offline(c)
}

func (f *frames) unsubscribe(c *client, fr protocol.Frame) {
	var d protocol.SubscribeData
	if err := protocol.DecodeData(fr.Data, &d); err != nil {
		c.errorFrame(protocol.CodeInvalidMessage, "", "pusher:unsubscribe: "+err.Error()+": data must be {\"channel\"}")
		return
	}
	c.mu.Lock()
	s, ok := c.subs.del(d.Channel)
	c.mu.Unlock()
	if ok {
		f.drop(c, d.Channel, s)
		f.logs.unsubscribed(c, d.Channel)
	}
}

// drop ends a client's subscription: the hub forgets it and a presence
// member key is removed.
func (f *frames) drop(c *client, ch string, s *subscription) {
	s.gone.Store(true)
	if f.hub.leave(c, c.app().Key, ch) {
		c.app().Metrics.Subscriptions.Dec()
	}
	if s.userID != "" {
		ctx, cancel := context.WithTimeout(f.ctx, storeTimeout)
		defer cancel()
		if err := f.presence.Leave(ctx, c.app().Key, ch, c.socketID); err != nil {
			// The key expires with the TTL when it cannot be deleted now.
			f.log.Warn("presence leave", slog.String("channel", ch), slog.Any("err", err))
		}
	}
}
