package gateway

import (
	"log/slog"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/webhook"
)

// clientEvent relays a client- event to the other subscribers of a private
// or presence channel, on every node, without storing it (Pusher keeps no
// client events either); the sender is excluded, so it is never echoed.
func (f *frames) clientEvent(c *client, fr protocol.Frame) {
	a := c.app()
	if a.DisableClientEvents {
		c.errorFrame(protocol.CodeClientEventLimit, fr.Channel, "client events are disabled for this app (disable_client_events): trigger the event from your backend instead")
		return
	}
	if k := protocol.KindOf(fr.Channel); k == protocol.Encrypted {
		c.errorFrame(protocol.CodeInvalidMessage, fr.Channel, "client events are not supported on encrypted (private-encrypted-) channels, as with Pusher: trigger the event from your backend")
		return
	} else if !k.AllowsClientEvents() {
		c.errorFrame(protocol.CodeInvalidMessage, fr.Channel, "client events need a private- or presence- channel: trigger them there, or from your backend")
		return
	}
	c.mu.Lock()
	sub, subscribed := c.subs.get(fr.Channel)
	c.mu.Unlock()
	if !subscribed {
		c.errorFrame(protocol.CodeInvalidMessage, fr.Channel, "client event on a channel this connection is not subscribed to: subscribe and wait for pusher:subscription_succeeded first")
		return
	}
	if err := protocol.ValidateEventName(fr.Event, a.MaxEventNameLength); err != nil {
		c.errorFrame(protocol.CodeInvalidMessage, fr.Channel, "client event name: "+err.Error()+": use at most "+itoa(a.MaxEventNameLength)+" bytes (max_event_name_length)")
		return
	}
	if !c.clientEvents.Allow(time.Now(), a.ClientEventsPerSec) {
		a.Metrics.Reject("client_event_rate")
		c.errorFrame(protocol.CodeClientEventLimit, fr.Channel, "client event rejected: over client_events_per_second ("+itoa(a.ClientEventsPerSec)+") on this connection; send fewer")
		return
	}
	data, err := protocol.DataString(fr.Data)
	if err != nil {
		c.errorFrame(protocol.CodeInvalidMessage, fr.Channel, "client event data: "+err.Error()+": send an object, array, number or string")
		return
	}
	if len(data) > a.MaxEventBytes {
		c.errorFrame(protocol.CodeInvalidMessage, fr.Channel, "client event data is "+itoa(len(data))+" bytes, over max_event_bytes ("+itoa(a.MaxEventBytes)+"): send less")
		return
	}
	frame := protocol.EventFrame(fr.Event, fr.Channel, data, sub.userID)
	if err := f.broker.Relay(a.Key, bus.Outgoing{Channel: fr.Channel, Frame: frame, Exclude: c.socketID}); err != nil {
		f.log.Error("client event", slog.String("app", a.Key), slog.String("channel", fr.Channel), slog.Any("err", err))
		c.errorFrame(protocol.CodeInvalidMessage, fr.Channel, "the server could not relay the client event (message bus unavailable): send it again in a moment")
		return
	}
	// This node's subscribers get it now: NATS relays it to the other
	// nodes only (the bus's relay connection has no echo).
	f.hub.deliver(delivery{Delivery: bus.Delivery{App: a.Key, Channel: fr.Channel, Frame: frame, Exclude: c.socketID}})
	a.Metrics.Client.Inc()
	a.Metrics.Relayed.Inc()
	f.webhooks.Report(a.Key, webhook.Event{Name: webhook.ClientEvent, Channel: fr.Channel, Event: fr.Event, Data: data,
		SocketID: c.socketID, UserID: sub.userID}, f.uniqueID("client", c.socketID))
}
