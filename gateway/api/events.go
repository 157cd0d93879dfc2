package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/apps"
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
func (s *Server) prepare(a *apps.App, e eventBody) (prepared, error) {
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
		return prepared{}, &Error{http.StatusRequestEntityTooLarge, "event data is " + itoa(len(data)) + " bytes, the limit is " + itoa(a.MaxEventBytes)}
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

// Trigger stores the event in body (the JSON of one /events request) for
// app a, as the API would; the console's form uses it.
func (s *Server) Trigger(ctx context.Context, a *apps.App, body []byte) error {
	var e eventBody
	if err := decodeStrict(body, &e); err != nil {
		return err
	}
	p, err := s.prepare(a, e)
	if err != nil {
		return err
	}
	return s.store(ctx, a, p.out)
}

// store publishes events and waits until JetStream stored every one.
func (s *Server) store(ctx context.Context, a *apps.App, out []bus.Outgoing) error {
	if err := s.broker.Ready(); err != nil {
		// Fail fast: an event that cannot be stored is never answered 200.
		return &Error{http.StatusServiceUnavailable, "event store unavailable (" + err.Error() + "), try again"}
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if _, err := s.broker.Publish(ctx, a.Key, out...); err != nil {
		s.log.Error("store events", slog.String("app", a.Key), slog.Any("err", err))
		if errors.Is(err, bus.ErrStorage) {
			// A known storage failure (a full disk): say which.
			return &Error{http.StatusServiceUnavailable, "the event could not be stored (" + err.Error() + "), try again"}
		}
		return &Error{http.StatusServiceUnavailable, "the event could not be stored, try again"}
	}
	a.Metrics.APIEvents.Add(float64(len(out)))
	return nil
}

// channelInfo answers the info attributes of one channel.
func (s *Server) channelInfo(a *apps.App, ch string, attrs map[string]bool) map[string]any {
	m := map[string]any{}
	if attrs["subscription_count"] {
		m["subscription_count"] = s.presence.SubscriptionCount(a.Key, ch)
	}
	if attrs["user_count"] {
		m["user_count"] = s.presence.UserCount(a.Key, ch)
	}
	return m
}

func (s *Server) events(w http.ResponseWriter, req request) {
	var e eventBody
	if err := decodeStrict(req.body, &e); err != nil {
		WriteErr(w, err)
		return
	}
	p, err := s.prepare(req.app, e)
	if err == nil {
		err = s.store(req.r.Context(), req.app, p.out)
	}
	if err != nil {
		WriteErr(w, err)
		return
	}
	if len(p.info) == 0 {
		writeJSON(w, http.StatusOK, struct{}{})
		return
	}
	chans := map[string]any{}
	for _, ch := range p.chans {
		chans[ch] = s.channelInfo(req.app, ch, p.info)
	}
	writeJSON(w, http.StatusOK, map[string]any{"channels": chans})
}

func (s *Server) batchEvents(w http.ResponseWriter, req request) {
	var body struct {
		Batch []eventBody `json:"batch"`
	}
	if err := decodeStrict(req.body, &body); err != nil {
		WriteErr(w, err)
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
		p, err := s.prepare(a, e)
		if err != nil {
			if ae, ok := err.(*Error); ok {
				ae.Msg = "batch item " + itoa(i) + ": " + ae.Msg
			}
			WriteErr(w, err)
			return
		}
		preps[i] = p
		all = append(all, p.out...)
		anyInfo = anyInfo || len(p.info) > 0
	}
	if err := s.store(req.r.Context(), a, all); err != nil {
		WriteErr(w, err)
		return
	}
	if !anyInfo {
		writeJSON(w, http.StatusOK, struct{}{})
		return
	}
	out := make([]map[string]any, len(preps))
	for i, p := range preps {
		out[i] = s.channelInfo(a, p.chans[0], p.info)
	}
	writeJSON(w, http.StatusOK, map[string]any{"batch": out})
}
