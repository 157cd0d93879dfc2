package gateway

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/presence"
	"github.com/pushd/pushd/webhook"
)

const storeTimeout = 10 * time.Second

// handleFrame acts on one text frame from a client.
func (g *Gateway) handleFrame(c *client, b []byte) {
	f, err := protocol.ParseFrame(b)
	if err != nil {
		c.errorFrame(protocol.CodeInvalidMessage, err.Error())
		return
	}
	switch f.Event {
	case "pusher:ping":
		c.send(protocol.PongFrame)
	case "pusher:pong":
	case "pusher:subscribe":
		g.subscribe(c, f)
	case "pusher:unsubscribe":
		g.unsubscribe(c, f)
	case "pusher:signin":
		g.signin(c, f)
	default:
		if strings.HasPrefix(f.Event, "client-") {
			g.clientEvent(c, f)
			return
		}
		c.errorFrame(protocol.CodeInvalidMessage, "unsupported event: "+truncate(f.Event, 64))
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func (g *Gateway) subscribe(c *client, f protocol.Frame) {
	var d protocol.SubscribeData
	if err := protocol.DecodeData(f.Data, &d); err != nil {
		c.errorFrame(protocol.CodeInvalidMessage, "pusher:subscribe: "+err.Error())
		return
	}
	a, ch := c.app(), d.Channel
	if err := protocol.ValidateChannel(ch, a.MaxChannelNameLength); err != nil {
		c.send(protocol.SubscriptionError(ch, "InvalidChannel", "invalid channel name: "+err.Error(), 400))
		return
	}
	switch kind := protocol.KindOf(ch); {
	case kind == protocol.ServerToUser:
		if u := c.user(); u == "" || ch != protocol.ServerToUserPrefix+u {
			c.send(protocol.SubscriptionError(ch, "AuthError", "sign in as this user first", 401))
			return
		}
	case kind.NeedsAuth():
		channelData := ""
		if kind == protocol.Presence {
			channelData = d.ChannelData
		}
		want := protocol.ChannelAuth(a.Key, a.Secret, c.socketID, ch, channelData)
		if err := protocol.VerifyAuth(d.Auth, want); err != nil {
			a.rt.m.Reject("auth")
			c.send(protocol.SubscriptionError(ch, "AuthError", "invalid auth for "+ch+": "+err.Error(), 401))
			return
		}
	}
	var member *presence.Member
	if protocol.KindOf(ch) == protocol.Presence {
		m, kind, err := parseMember(a, d.ChannelData)
		if err != nil {
			c.send(protocol.SubscriptionError(ch, kind, err.Error(), 400))
			return
		}
		if !g.presence.Present(a.Key, ch, m.UserID) && g.presence.UserCount(a.Key, ch) >= a.MaxPresenceMembers {
			c.send(protocol.SubscriptionError(ch, "LimitReached", "presence channel is full ("+itoa(a.MaxPresenceMembers)+" members)", 429))
			return
		}
		member = &m
	}
	c.mu.Lock()
	_, already := c.subs[ch]
	full := len(c.subs) >= a.MaxChannelsPerSocket
	c.mu.Unlock()
	if already {
		c.send(protocol.SubscriptionSucceeded(ch, ""))
		return
	}
	if full {
		c.send(protocol.SubscriptionError(ch, "LimitReached", "too many channels on this connection", 429))
		return
	}
	// A Pushd client learns the stream position to resume from should the
	// link drop before this channel's first event. It is read before the
	// join, so every event the subscription receives is newer.
	var position uint64
	if c.resumable && d.Resume == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		position, _ = g.broker.LastSeq(ctx, a.Key)
		cancel()
	}
	s, err := g.hub.join(c, a.Key, ch)
	if err == nil && d.Resume > 0 {
		s.bound() // its replay may take a while: hold a bounded amount
	}
	if err == nil && member != nil {
		s.userID = member.UserID
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		err = g.presence.Join(ctx, a.Key, ch, c.socketID, *member)
		cancel()
		if err != nil {
			g.hub.leave(c, a.Key, ch)
		}
	}
	if err != nil {
		g.log.Error("subscribe failed", slog.String("app", a.Key), slog.String("channel", ch), slog.Any("err", err))
		c.send(protocol.SubscriptionError(ch, "ServerError", "the server could not subscribe, try again", 503))
		return
	}
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		g.drop(c, ch, s)
		return
	}
	if c.subs == nil {
		c.subs = map[string]*subscription{}
	}
	c.subs[ch] = s
	c.mu.Unlock()
	if protocol.KindOf(ch).NeedsAuth() {
		c.authorized.Store(true)
	}
	a.rt.m.Subscriptions.Inc()
	succeeded := ""
	if member != nil {
		var rev uint64
		succeeded, rev = g.presenceData(a.Key, ch, *member)
		s.memberAfter.Store(rev)
	}
	c.send(protocol.WithSeq(protocol.SubscriptionSucceeded(ch, succeeded), position))
	switch {
	case d.Resume > 0:
		// Off the read loop; the replay ends the hold.
		g.queueReplay(c, replayJob{s: s, channel: ch, from: d.Resume, oldSocket: d.ResumeSocket})
	case protocol.IsCache(ch):
		s.release(g.sendCached(c, ch))
	default:
		s.release(0)
	}
	g.noteCount(a.Key, ch, 0, false)
}

// sendCached sends a cache channel's last event, or pusher:cache_miss, and
// returns the sequence of what it sent.
func (g *Gateway) sendCached(c *client, ch string) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	last, err := g.broker.Last(ctx, c.app().Key, ch)
	if err == nil && time.Since(last.Time) < c.app().CacheTTL {
		c.send(protocol.WithSeq(last.Frame, last.Seq))
		return last.Seq
	}
	if err != nil && !errors.Is(err, bus.ErrNotFound) {
		g.log.Error("read cache", slog.String("app", c.app().Key), slog.String("channel", ch), slog.Any("err", err))
	}
	c.send(protocol.CacheMiss(ch))
	g.hook(c.app().Key, webhook.Event{Name: webhook.CacheMiss, Channel: ch}, g.uniqueID("cache_miss", c.socketID))
	return 0
}

func (g *Gateway) unsubscribe(c *client, f protocol.Frame) {
	var d protocol.SubscribeData
	if err := protocol.DecodeData(f.Data, &d); err != nil {
		c.errorFrame(protocol.CodeInvalidMessage, "pusher:unsubscribe: "+err.Error())
		return
	}
	c.mu.Lock()
	s, ok := c.subs[d.Channel]
	delete(c.subs, d.Channel)
	c.mu.Unlock()
	if ok {
		g.drop(c, d.Channel, s)
	}
}

// drop ends a client's subscription: the hub forgets it and a presence
// member key is removed.
func (g *Gateway) drop(c *client, ch string, s *subscription) {
	s.gone.Store(true)
	if g.hub.leave(c, c.app().Key, ch) {
		c.app().rt.m.Subscriptions.Dec()
	}
	if s.userID != "" {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		if err := g.presence.Leave(ctx, c.app().Key, ch, c.socketID); err != nil {
			// The key expires with the TTL when it cannot be deleted now.
			g.log.Warn("presence leave", slog.String("channel", ch), slog.Any("err", err))
		}
	}
}

func (g *Gateway) clientEvent(c *client, f protocol.Frame) {
	a := c.app()
	if a.DisableClientEvents {
		c.errorFrame(protocol.CodeClientEventLimit, "client events are not enabled for this app")
		return
	}
	if k := protocol.KindOf(f.Channel); k == protocol.Encrypted {
		c.errorFrame(protocol.CodeInvalidMessage, "client events are not supported on encrypted (private-encrypted-) channels, as with Pusher: trigger the event from your backend")
		return
	} else if !k.AllowsClientEvents() {
		c.errorFrame(protocol.CodeInvalidMessage, "client events are only allowed on private and presence channels")
		return
	}
	c.mu.Lock()
	sub, subscribed := c.subs[f.Channel]
	c.mu.Unlock()
	if !subscribed {
		c.errorFrame(protocol.CodeInvalidMessage, "client event on a channel this connection is not subscribed to")
		return
	}
	if err := protocol.ValidateEventName(f.Event, a.MaxEventNameLength); err != nil {
		c.errorFrame(protocol.CodeInvalidMessage, "client event name: "+err.Error())
		return
	}
	if !c.allowClientEvent(time.Now()) {
		a.rt.m.Reject("client_event_rate")
		c.errorFrame(protocol.CodeClientEventLimit, "client event rejected due to rate limit")
		return
	}
	data, err := protocol.DataString(f.Data)
	if err != nil {
		c.errorFrame(protocol.CodeInvalidMessage, err.Error())
		return
	}
	if len(data) > a.MaxEventBytes {
		c.errorFrame(protocol.CodeInvalidMessage, "client event data is larger than the app's limit")
		return
	}
	frame := protocol.EventFrame(f.Event, f.Channel, data, sub.userID)
	if err := g.broker.Relay(a.Key, bus.Outgoing{Channel: f.Channel, Frame: frame, Exclude: c.socketID}); err != nil {
		g.log.Error("client event", slog.String("app", a.Key), slog.String("channel", f.Channel), slog.Any("err", err))
		c.errorFrame(protocol.CodeInvalidMessage, "the server could not relay the client event")
		return
	}
	a.rt.m.Client.Inc()
	a.rt.m.Relayed.Inc()
	g.hook(a.Key, webhook.Event{Name: webhook.ClientEvent, Channel: f.Channel, Event: f.Event, Data: data,
		SocketID: c.socketID, UserID: sub.userID}, g.uniqueID("client", c.socketID))
}

func (g *Gateway) signin(c *client, f protocol.Frame) {
	var d protocol.SigninData
	if err := protocol.DecodeData(f.Data, &d); err != nil {
		c.errorFrame(protocol.CodeUnauthorized, "pusher:signin: "+err.Error())
		return
	}
	want := protocol.UserAuth(c.app().Key, c.app().Secret, c.socketID, d.UserData)
	if err := protocol.VerifyAuth(d.Auth, want); err != nil {
		c.errorFrame(protocol.CodeUnauthorized, "pusher:signin: "+err.Error())
		return
	}
	id, watchRaw, err := parseUserData(d.UserData)
	if err != nil {
		c.errorFrame(protocol.CodeUnauthorized, "pusher:signin: "+err.Error())
		return
	}
	c.mu.Lock()
	if c.userID != "" && c.userID != id {
		c.mu.Unlock()
		c.errorFrame(protocol.CodeUnauthorized, "pusher:signin: connection is already signed in as another user")
		return
	}
	first := c.userID == ""
	c.userID = id
	c.mu.Unlock()
	c.authorized.Store(true)
	c.send(protocol.SigninSuccess(d.UserData))
	if !first {
		return
	}
	watch, over := watchlistIDs(watchRaw)
	if over {
		c.errorFrame(protocol.CodeWatchlistLimit, "watchlist limit exceeded: the first "+itoa(maxWatchlist)+" ids are watched")
	}
	g.online(c, id, watch)
}

const controlTerminate = "terminate"

// terminateLocal closes this node's connections of one user.
func (g *Gateway) terminateLocal(app string, userID []byte) {
	id := string(userID)
	g.clients.each(func(c *client) {
		if c.app().Key == app && c.user() == id {
			c.fail(protocol.CodeUnauthorized, "connection terminated by the app")
		}
	})
}
