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
		c.errorFrame(protocol.CodeInvalidMessage, err.Error()+": send each message as a JSON object with an \"event\" field")
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
		c.errorFrame(protocol.CodeInvalidMessage, "unsupported event "+truncate(f.Event, 64)+": clients send pusher:subscribe, pusher:unsubscribe, pusher:ping, pusher:signin or client- events")
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
		c.errorFrame(protocol.CodeInvalidMessage, "pusher:subscribe: "+err.Error()+": data must be {\"channel\"} plus the auth endpoint's auth and channel_data")
		return
	}
	a, ch := c.app(), d.Channel
	if err := protocol.ValidateChannel(ch, a.MaxChannelNameLength); err != nil {
		c.send(protocol.SubscriptionError(ch, "InvalidChannel", "invalid channel name: "+err.Error()+": use at most "+itoa(a.MaxChannelNameLength)+" characters of A-Z a-z 0-9 _ - = @ , . ;", 400))
		return
	}
	switch kind := protocol.KindOf(ch); {
	case kind == protocol.ServerToUser:
		if u := c.user(); u == "" || ch != protocol.ServerToUserPrefix+u {
			c.send(protocol.SubscriptionError(ch, "AuthError", "#server-to-user- channels are for the signed-in user: sign in first, then subscribe to #server-to-user-{your user id}", 401))
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
			c.send(protocol.SubscriptionError(ch, "AuthError", "invalid auth for "+ch+": "+authMismatch(d.Auth, a.Key, channelSigned(kind)), 401))
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
			c.send(protocol.SubscriptionError(ch, "LimitReached", "presence channel is full (max_presence_members "+itoa(a.MaxPresenceMembers)+"): raise the limit in the server's config or use more channels", 429))
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
		c.send(protocol.SubscriptionError(ch, "LimitReached", "too many channels on this connection (max_channels_per_socket "+itoa(a.MaxChannelsPerSocket)+"): unsubscribe from channels no longer needed", 429))
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
		c.send(protocol.SubscriptionError(ch, "ServerError", "the server could not subscribe (its message store did not answer): subscribe again in a moment", 503))
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
	var after uint64
	switch {
	case d.Resume > 0:
		after = g.replay(c, ch, d.Resume, d.ResumeSocket)
	case protocol.IsCache(ch):
		after = g.sendCached(c, ch)
	}
	s.release(after)
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

// maxReplay bounds one resume; a client further behind refetches its state.
const maxReplay = 10000

// replay sends a resuming subscriber the stored events of ch after seq from,
// in order, or pusher:recovery_failed when the stream no longer holds all of
// them. It returns the last sequence sent.
func (g *Gateway) replay(c *client, ch string, from uint64, oldSocket string) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	first, err := g.broker.FirstSeq(ctx, c.app().Key)
	if err != nil || first > from+1 {
		c.send(protocol.RecoveryFailed(ch))
		return 0
	}
	evs, err := g.broker.After(ctx, c.app().Key, ch, from, 0, maxReplay+1)
	if err != nil || len(evs) > maxReplay {
		if err != nil {
			g.log.Error("resume", slog.String("app", c.app().Key), slog.String("channel", ch), slog.Any("err", err))
		}
		c.send(protocol.RecoveryFailed(ch))
		return 0
	}
	last := from
	for _, e := range evs {
		last = e.Seq
		if e.Exclude != "" && (e.Exclude == oldSocket || e.Exclude == c.socketID) {
			continue
		}
		c.send(protocol.WithSeq(e.Frame, e.Seq))
	}
	return last
}

func (g *Gateway) unsubscribe(c *client, f protocol.Frame) {
	var d protocol.SubscribeData
	if err := protocol.DecodeData(f.Data, &d); err != nil {
		c.errorFrame(protocol.CodeInvalidMessage, "pusher:unsubscribe: "+err.Error()+": data must be {\"channel\"}")
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
		c.errorFrame(protocol.CodeClientEventLimit, "client events are disabled for this app (disable_client_events): trigger the event from your backend instead")
		return
	}
	if k := protocol.KindOf(f.Channel); k == protocol.Encrypted {
		c.errorFrame(protocol.CodeInvalidMessage, "client events are not supported on encrypted (private-encrypted-) channels, as with Pusher: trigger the event from your backend")
		return
	} else if !k.AllowsClientEvents() {
		c.errorFrame(protocol.CodeInvalidMessage, "client events need a private- or presence- channel: trigger them there, or from your backend")
		return
	}
	c.mu.Lock()
	sub, subscribed := c.subs[f.Channel]
	c.mu.Unlock()
	if !subscribed {
		c.errorFrame(protocol.CodeInvalidMessage, "client event on a channel this connection is not subscribed to: subscribe and wait for pusher:subscription_succeeded first")
		return
	}
	if err := protocol.ValidateEventName(f.Event, a.MaxEventNameLength); err != nil {
		c.errorFrame(protocol.CodeInvalidMessage, "client event name: "+err.Error()+": use at most "+itoa(a.MaxEventNameLength)+" bytes (max_event_name_length)")
		return
	}
	if !c.clientEvents.Allow(time.Now(), a.ClientEventsPerSec) {
		a.rt.m.Reject("client_event_rate")
		c.errorFrame(protocol.CodeClientEventLimit, "client event rejected: over client_events_per_second ("+itoa(a.ClientEventsPerSec)+") on this connection; send fewer")
		return
	}
	data, err := protocol.DataString(f.Data)
	if err != nil {
		c.errorFrame(protocol.CodeInvalidMessage, "client event data: "+err.Error()+": send an object, array, number or string")
		return
	}
	if len(data) > a.MaxEventBytes {
		c.errorFrame(protocol.CodeInvalidMessage, "client event data is "+itoa(len(data))+" bytes, over max_event_bytes ("+itoa(a.MaxEventBytes)+"): send less")
		return
	}
	frame := protocol.EventFrame(f.Event, f.Channel, data, sub.userID)
	if err := g.broker.Relay(a.Key, bus.Outgoing{Channel: f.Channel, Frame: frame, Exclude: c.socketID}); err != nil {
		g.log.Error("client event", slog.String("app", a.Key), slog.String("channel", f.Channel), slog.Any("err", err))
		c.errorFrame(protocol.CodeInvalidMessage, "the server could not relay the client event (message bus unavailable): send it again in a moment")
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
		c.errorFrame(protocol.CodeUnauthorized, "pusher:signin: "+err.Error()+": data must be {\"auth\", \"user_data\"} from your user auth endpoint")
		return
	}
	want := protocol.UserAuth(c.app().Key, c.app().Secret, c.socketID, d.UserData)
	if err := protocol.VerifyAuth(d.Auth, want); err != nil {
		c.errorFrame(protocol.CodeUnauthorized, "pusher:signin: "+authMismatch(d.Auth, c.app().Key, "socket_id::user::user_data"))
		return
	}
	id, watchRaw, err := parseUserData(d.UserData)
	if err == nil {
		err = validSigninID(id, c.app().MaxUserIDLength)
	}
	if err != nil {
		c.errorFrame(protocol.CodeUnauthorized, "pusher:signin: "+err.Error())
		return
	}
	c.mu.Lock()
	if c.userID != "" && c.userID != id {
		c.mu.Unlock()
		c.errorFrame(protocol.CodeUnauthorized, "pusher:signin: this connection is already signed in as another user: open a new connection to sign in as someone else")
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
		c.errorFrame(protocol.CodeWatchlistLimit, "watchlist limit exceeded: only the first "+itoa(maxWatchlist)+" ids of user_data's watchlist are watched; shorten it")
	}
	g.online(c, id, watch)
}

const controlTerminate = "terminate"

// terminateLocal closes this node's connections of one user.
func (g *Gateway) terminateLocal(app string, userID []byte) {
	id := string(userID)
	g.clients.each(func(c *client) {
		if c.app().Key == app && c.user() == id {
			c.fail(protocol.CodeUnauthorized, "connection terminated by the app's backend (terminate_connections for this user)")
		}
	})
}
