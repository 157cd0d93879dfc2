package gateway

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/presence"
	"github.com/pushd/pushd/webhook"
)

// A subscription goes through four steps, each a function below: authorise
// (the channel name, its signature, the presence member and the limits),
// join (the hub, and the presence bucket for a member), confirm
// (subscription_succeeded with the member list or the stream position), and
// catch up (a resume from the stream or a cache channel's last event). The
// subscription holds its deliveries until it has caught up, so a client
// never sees an event before subscription_succeeded, nor one twice.

// refusal is why a subscription is refused: the subscription_error to send.
type refusal struct {
	typ    string
	msg    string
	status int
}

// subscribe handles pusher:subscribe.
func (f *frames) subscribe(c *client, fr protocol.Frame) {
	var d protocol.SubscribeData
	if err := protocol.DecodeData(fr.Data, &d); err != nil {
		c.errorFrame(protocol.CodeInvalidMessage, "", "pusher:subscribe: "+err.Error()+": data must be {\"channel\"} plus the auth endpoint's auth and channel_data")
		return
	}
	a, ch := c.app(), d.Channel
	member, no := f.authorise(c, d)
	if no != nil {
		f.refuse(c, ch, no)
		return
	}
	c.mu.Lock()
	_, already := c.subs.get(ch)
	full := c.subs.len() >= a.MaxChannelsPerSocket
	c.mu.Unlock()
	if already {
		c.send(protocol.SubscriptionSucceeded(ch, ""))
		return
	}
	if full {
		f.refuse(c, ch, &refusal{"LimitReached", "too many channels on this connection (max_channels_per_socket " + itoa(a.MaxChannelsPerSocket) + "): unsubscribe from channels no longer needed", 429})
		return
	}
	// A Pushd client (or one that asks with want_seq: pusher-js with
	// pushd-resume) learns the stream position to resume from should the
	// link drop before this channel's first event. It is read before the
	// join, so every event the subscription receives is newer.
	var position uint64
	if (c.resumable || d.WantSeq) && d.Resume == 0 {
		ctx, cancel := context.WithTimeout(f.ctx, storeTimeout)
		position, _ = f.broker.LastSeq(ctx, a.Key)
		cancel()
	}
	s, err := f.join(c, ch, member, d.Resume > 0)
	if err != nil {
		f.log.Error("subscribe failed", slog.String("app", a.Key), slog.String("socket_id", c.socketID), slog.String("channel", ch), slog.Any("err", err))
		c.send(protocol.SubscriptionError(ch, "ServerError", "the server could not subscribe (its message store did not answer): subscribe again in a moment", 503))
		return
	}
	if !f.register(c, ch, s) {
		return
	}
	f.confirm(c, ch, s, member, position)
	f.logs.subscribed(c, ch)
	f.catchUp(c, ch, s, d)
	f.reactions.noteCount(a.Key, ch, 0, false)
}

// authorise checks that c may subscribe to the channel of d: a valid name,
// the app's signature for a private or presence channel (or the signed-in
// user for its own #server-to-user- channel), and for a presence channel a
// valid member that fits. It returns the member of a presence channel.
func (f *frames) authorise(c *client, d protocol.SubscribeData) (*presence.Member, *refusal) {
	a, ch := c.app(), d.Channel
	if err := protocol.ValidateChannel(ch, a.MaxChannelNameLength); err != nil {
		return nil, &refusal{"InvalidChannel", "invalid channel name: " + err.Error() + ": use at most " + itoa(a.MaxChannelNameLength) + " characters of A-Z a-z 0-9 _ - = @ , . ;", 400}
	}
	switch kind := protocol.KindOf(ch); {
	case kind == protocol.ServerToUser:
		if u := c.user(); u == "" || ch != protocol.ServerToUserPrefix+u {
			return nil, &refusal{"AuthError", "#server-to-user- channels are for the signed-in user: sign in first, then subscribe to #server-to-user-{your user id}", 401}
		}
	case kind.NeedsAuth():
		channelData := ""
		if kind == protocol.Presence {
			channelData = d.ChannelData
		}
		if err := a.Verify(time.Now(), func(secret string) error {
			return protocol.VerifyAuth(d.Auth, protocol.ChannelAuth(a.Key, secret, c.socketID, ch, channelData))
		}); err != nil {
			a.Metrics.Reject("auth")
			return nil, &refusal{"AuthError", "invalid auth for " + ch + ": " + authMismatch(d.Auth, a.Key, channelSigned(kind)), 401}
		}
	}
	if protocol.KindOf(ch) != protocol.Presence {
		return nil, nil
	}
	m, typ, err := parseMember(a, d.ChannelData)
	if err != nil {
		return nil, &refusal{typ, err.Error(), 400}
	}
	if !f.presence.Present(a.Key, ch, m.UserID) && f.presence.UserCount(a.Key, ch) >= a.MaxPresenceMembers {
		return nil, &refusal{"LimitReached", "presence channel is full (max_presence_members " + itoa(a.MaxPresenceMembers) + "): raise the limit in the server's config or use more channels", 429}
	}
	return &m, nil
}

// refuse sends a subscription_error and logs the refusal (limited per
// remote address and per node, so a flood cannot flood the log; never a
// secret or a signature).
func (f *frames) refuse(c *client, ch string, r *refusal) {
	c.send(protocol.SubscriptionError(ch, r.typ, r.msg, r.status))
	f.logs.subscriptionRefused(c, ch, r)
}

// join adds c to the channel's local subscribers (held; a resuming one
// holds a bounded amount, since its replay may take a while) and, for a
// presence member, to the cluster's members.
func (f *frames) join(c *client, ch string, member *presence.Member, resuming bool) (*subscription, error) {
	a := c.app()
	s, err := f.hub.join(c, a.Key, ch)
	if err == nil && resuming {
		s.bound()
	}
	if err != nil || member == nil {
		return s, err
	}
	s.userID = member.UserID
	ctx, cancel := context.WithTimeout(f.ctx, storeTimeout)
	defer cancel()
	if err := f.presence.Join(ctx, a.Key, ch, c.socketID, *member); err != nil {
		f.hub.leave(c, a.Key, ch)
		return nil, err
	}
	return s, nil
}

// register records the subscription on the client; a client that closed
// meanwhile has it dropped at once (false).
func (f *frames) register(c *client, ch string, s *subscription) bool {
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		f.drop(c, ch, s)
		return false
	}
	c.subs.put(ch, s)
	c.mu.Unlock()
	if protocol.KindOf(ch).NeedsAuth() {
		c.authorized.Store(true)
	}
	c.app().Metrics.Subscriptions.Inc()
	return true
}

// confirm sends subscription_succeeded: with the member list on a presence
// channel, with the stream position for a Pushd client.
func (f *frames) confirm(c *client, ch string, s *subscription, member *presence.Member, position uint64) {
	succeeded := ""
	if member != nil {
		var rev uint64
		succeeded, rev = f.presenceData(c.app().Key, ch, *member)
		s.memberAfter.Store(rev)
	}
	c.send(protocol.WithSeq(protocol.SubscriptionSucceeded(ch, succeeded), position))
}

// catchUp sends what the subscriber missed or is owed before live events
// and ends the hold: a resume is replayed from the stream or the window off
// the read loop (replay.go), paced by the socket's outbox, and ends the hold
// itself; a cache channel gets its last event.
func (f *frames) catchUp(c *client, ch string, s *subscription, d protocol.SubscribeData) {
	switch {
	case d.Resume > 0:
		f.queueReplay(c, replayJob{s: s, channel: ch, from: d.Resume, oldSocket: d.ResumeSocket})
	case protocol.IsCache(ch):
		s.release(f.sendCached(c, ch))
	default:
		s.release(0)
	}
}

// sendCached sends a cache channel's last event, or pusher:cache_miss, and
// returns the sequence of what it sent.
func (f *frames) sendCached(c *client, ch string) uint64 {
	ctx, cancel := context.WithTimeout(f.ctx, storeTimeout)
	defer cancel()
	last, err := f.broker.Last(ctx, c.app().Key, ch)
	if err == nil && time.Since(last.Time) < c.app().CacheTTL {
		c.send(protocol.WithSeq(last.Frame, last.Seq))
		return last.Seq
	}
	if err != nil && !errors.Is(err, bus.ErrNotFound) {
		f.log.Error("read cache", slog.String("app", c.app().Key), slog.String("channel", ch), slog.Any("err", err))
	}
	c.send(protocol.CacheMiss(ch))
	f.webhooks.Report(c.app().Key, webhook.Event{Name: webhook.CacheMiss, Channel: ch}, f.uniqueID("cache_miss", c.socketID))
	return 0
}
