package bus

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

// shard delivers the republished events of the channels hashed to it, one
// message at a time, so a channel's events keep their stream order.
type shard struct {
	bus  *Bus
	in   chan *nats.Msg
	last map[string]uint64 // out subject -> last delivered sequence
}

func (s *shard) run() {
	for m := range s.in {
		if m.Subject == unsubMarker {
			delete(s.last, m.Reply)
			continue
		}
		s.deliver(m)
	}
}

func (s *shard) deliver(m *nats.Msg) {
	app, channel, ok := splitOut(m.Subject)
	if !ok {
		return
	}
	seq, _ := strconv.ParseUint(m.Header.Get(hdrSeq), 10, 64)
	prev, _ := strconv.ParseUint(m.Header.Get(hdrLastSeq), 10, 64)
	last := s.last[m.Subject]
	if seq != 0 && seq <= last {
		return // already delivered (a gap fill got there first)
	}
	if last != 0 && prev > last {
		s.fill(app, channel, last, seq)
	}
	if seq != 0 {
		s.last[m.Subject] = seq
	}
	stored, _ := time.Parse(time.RFC3339Nano, m.Header.Get(hdrTime))
	s.bus.handler(Delivery{App: app, Channel: channel, Frame: m.Data, Seq: seq, Exclude: m.Header.Get(hdrExclude), Stored: stored})
}

// fill delivers the stored events between last and seq that this node missed
// (a NATS reconnect, a dropped message of a slow subscription).
func (s *shard) fill(app, channel string, last, seq uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	missed, err := s.bus.After(ctx, app, channel, last, seq, 0)
	if err != nil {
		s.bus.log.Error("gap fill failed", slog.String("app", app), slog.String("channel", channel),
			slog.Uint64("after", last), slog.Uint64("before", seq), slog.Any("err", err))
	}
	for _, d := range missed {
		s.bus.handler(d)
	}
	if len(missed) > 0 {
		s.bus.log.Warn("filled a gap from the stream", slog.String("app", app), slog.String("channel", channel),
			slog.Int("events", len(missed)))
	}
}
