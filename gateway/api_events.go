package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/protocol"
)

// eventBody is one event of /events or of /batch_events.
type eventBody struct {
	Name     string          `json:"name"`
	Data     json.RawMessage `json:"data"`
	Channels []string        `json:"channels"`
	Channel  string          `json:"channel"`
	SocketID string          `json:"socket_id"`
	Info     string          `json:"info"`
}

// parseInfo splits an info parameter and checks its attributes against the
// channels: user_count needs presence channels.
func parseInfo(info string, allowed []string, channels []string) (map[string]bool, error) {
	attrs := map[string]bool{}
	for _, f := range strings.Split(info, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == f
		}
		if !ok {
			return nil, badRequest("unsupported info attribute: " + f)
		}
		attrs[f] = true
	}
	if attrs["user_count"] {
		for _, ch := range channels {
			if protocol.KindOf(ch) != protocol.Presence {
				return nil, badRequest("user_count is only available for presence channels: " + ch)
			}
		}
	}
	return attrs, nil
}

// prepared is a validated event ready to store.
type prepared struct {
	out   []bus.Outgoing
	info  map[string]bool
	chans []string
}

// prepare validates one event and encodes its frame for every channel.
func (g *Gateway) prepare(a *app, e eventBody) (prepared, error) {
	channels := e.Channels
	if e.Channel != "" {
		if len(channels) > 0 {
			return prepared{}, badRequest("give channel or channels, not both")
		}
		channels = []string{e.Channel}
	}
	if len(channels) == 0 {
		return prepared{}, badRequest("channels is required")
	}
	if len(channels) > a.MaxChannelsPerEvent {
		return prepared{}, badRequest("too many channels: the limit is " + itoa(a.MaxChannelsPerEvent))
	}
	if err := protocol.ValidateEventName(e.Name, a.MaxEventNameLength); err != nil {
		return prepared{}, badRequest("event name: " + err.Error())
	}
	if e.Data == nil {
		return prepared{}, badRequest("data is required")
	}
	data, err := protocol.DataString(e.Data)
	if err != nil {
		return prepared{}, badRequest(err.Error())
	}
	if len(data) > a.MaxEventBytes {
		return prepared{}, &apiError{http.StatusRequestEntityTooLarge, "event data is " + itoa(len(data)) + " bytes, the limit is " + itoa(a.MaxEventBytes)}
	}
	if e.SocketID != "" && !protocol.ValidSocketID(e.SocketID) {
		return prepared{}, badRequest("invalid socket_id")
	}
	seen := map[string]bool{}
	p := prepared{chans: channels}
	for _, ch := range channels {
		if err := protocol.ValidateChannel(ch, a.MaxChannelNameLength); err != nil {
			return prepared{}, badRequest("channel " + truncate(ch, 64) + ": " + err.Error())
		}
		if seen[ch] {
			continue
		}
		seen[ch] = true
		p.out = append(p.out, bus.Outgoing{Channel: ch, Frame: protocol.EventFrame(e.Name, ch, data, ""), Exclude: e.SocketID})
	}
	p.info, err = parseInfo(e.Info, []string{"user_count", "subscription_count"}, channels)
	if err != nil {
		return prepared{}, err
	}
	return p, nil
}

func (g *Gateway) store(ctx context.Context, a *app, out []bus.Outgoing) error {
	if err := g.broker.Ready(); err != nil {
		// Fail fast: an event that cannot be stored is never answered 200.
		return &apiError{http.StatusServiceUnavailable, "event store unavailable (" + err.Error() + "), try again"}
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if _, err := g.broker.Publish(ctx, a.Key, out...); err != nil {
		g.log.Error("store events", slog.String("app", a.Key), slog.Any("err", err))
		if errors.Is(err, bus.ErrStorage) {
			// A known storage failure (a full disk): say which.
			return &apiError{http.StatusServiceUnavailable, "the event could not be stored (" + err.Error() + "), try again"}
		}
		return &apiError{http.StatusServiceUnavailable, "the event could not be stored, try again"}
	}
	a.rt.m.APIEvents.Add(float64(len(out)))
	return nil
}

// channelInfo answers the info attributes of one channel.
func (g *Gateway) channelInfo(a *app, ch string, attrs map[string]bool) map[string]any {
	m := map[string]any{}
	if attrs["subscription_count"] {
		m["subscription_count"] = g.presence.SubscriptionCount(a.Key, ch)
	}
	if attrs["user_count"] {
		m["user_count"] = g.presence.UserCount(a.Key, ch)
	}
	return m
}

func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return badRequest("invalid JSON body: " + err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("invalid JSON body: data after the JSON value")
	}
	return nil
}

func (g *Gateway) apiEvents(w http.ResponseWriter, req apiRequest) {
	var e eventBody
	if err := decodeStrict(req.body, &e); err != nil {
		writeAPIError(w, err)
		return
	}
	p, err := g.prepare(req.app, e)
	if err == nil {
		err = g.store(req.r.Context(), req.app, p.out)
	}
	if err != nil {
		writeAPIError(w, err)
		return
	}
	if len(p.info) == 0 {
		writeJSON(w, http.StatusOK, struct{}{})
		return
	}
	chans := map[string]any{}
	for _, ch := range p.chans {
		chans[ch] = g.channelInfo(req.app, ch, p.info)
	}
	writeJSON(w, http.StatusOK, map[string]any{"channels": chans})
}

func (g *Gateway) apiBatchEvents(w http.ResponseWriter, req apiRequest) {
	var body struct {
		Batch []eventBody `json:"batch"`
	}
	if err := decodeStrict(req.body, &body); err != nil {
		writeAPIError(w, err)
		return
	}
	a := req.app
	if len(body.Batch) == 0 {
		writeError(w, http.StatusBadRequest, "batch is empty")
		return
	}
	if len(body.Batch) > a.MaxBatchEvents {
		writeError(w, http.StatusBadRequest, "too many events in the batch: the limit is "+itoa(a.MaxBatchEvents))
		return
	}
	var all []bus.Outgoing
	preps := make([]prepared, len(body.Batch))
	anyInfo := false
	for i, e := range body.Batch {
		if len(e.Channels) > 0 {
			writeError(w, http.StatusBadRequest, "batch item "+itoa(i)+": use channel, not channels")
			return
		}
		p, err := g.prepare(a, e)
		if err != nil {
			if ae, ok := err.(*apiError); ok {
				ae.msg = "batch item " + itoa(i) + ": " + ae.msg
			}
			writeAPIError(w, err)
			return
		}
		preps[i] = p
		all = append(all, p.out...)
		anyInfo = anyInfo || len(p.info) > 0
	}
	if err := g.store(req.r.Context(), a, all); err != nil {
		writeAPIError(w, err)
		return
	}
	if !anyInfo {
		writeJSON(w, http.StatusOK, struct{}{})
		return
	}
	out := make([]map[string]any, len(preps))
	for i, p := range preps {
		out[i] = g.channelInfo(a, p.chans[0], p.info)
	}
	writeJSON(w, http.StatusOK, map[string]any{"batch": out})
}
