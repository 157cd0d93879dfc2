package bus

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

// Markers travel through a shard's queue between the messages of the
// subscriptions, so they take effect in order with them. Their subjects are
// never valid NATS subjects; Reply names the out subject they concern and
// the Nats-Sequence header carries a stream position.
const (
	// markUnsub: the subscription ended, forget the subject's position.
	markUnsub = ""
	// markBase: the stream's last sequence read just before subscribing.
	// Every later event of the channel is owed, so the first one that
	// arrives reveals whether some got lost on the way.
	markBase = " base"
	// markCheck: the stream's last sequence read a while after subscribing:
	// events of the channel up to it that did not arrive are read from the
	// stream (interest takes time to spread across a NATS cluster).
	markCheck = " check"
)

// shard delivers the republished events of the channels hashed to it, one
// message at a time, so a channel's events keep their stream order.
type shard struct {
	bus    *Bus
	in     chan *nats.Msg
	last   map[string]uint64 // out subject -> last delivered (or base) sequence
	window *window           // latest events of this shard's channels; nil: none
}

func (s *shard) run() {
	for {
		select {
		case m := <-s.in:
			s.handle(m)
		case <-s.bus.done:
			return
		}
	}
}

// enqueue queues m unless the bus is closed.
func (s *shard) enqueue(m *nats.Msg) {
	select {
	case s.in <- m:
	case <-s.bus.done:
	}
}

func marker(kind, subject string, seq uint64) *nats.Msg {
	m := &nats.Msg{Subject: kind, Reply: subject, Header: nats.Header{}}
	m.Header.Set(hdrSeq, strconv.FormatUint(seq, 10))
	return m
}

func (s *shard) handle(m *nats.Msg) {
	switch m.Subject {
	case markUnsub:
		delete(s.last, m.Reply)
		// Events after this are not received: the window would miss them.
		s.window.drop(m.Reply)
	case markBase:
		if _, known := s.last[m.Reply]; !known {
			s.last[m.Reply], _ = strconv.ParseUint(m.Header.Get(hdrSeq), 10, 64)
		}
	case markCheck:
		s.check(m)
	default:
		s.deliver(m)
	}
}

func (s *shard) deliver(m *nats.Msg) {
	app, channel, ok := splitOut(m.Subject)
	if !ok {
		return
	}
	seq, prev := headerUint(m.Header, hdrSeq), headerUint(m.Header, hdrLastSeq)
	last, known := s.last[m.Subject]
	if seq != 0 && seq <= last {
		return // already delivered (a gap fill got there first)
	}
	if known && prev > last {
		s.fill(m.Subject, app, channel, last, seq)
	}
	if seq != 0 {
		s.last[m.Subject] = seq
	}
	var stored time.Time
	if v := m.Header.Get(hdrTime); v != "" {
		stored, _ = time.Parse(time.RFC3339Nano, v)
	}
	d := Delivery{App: app, Channel: channel, Frame: m.Data, Seq: seq, Prev: prev, Exclude: m.Reply, Stored: stored}
	if d.Exclude == "" {
		d.Exclude = m.Header.Get(hdrExclude) // a stored event's, or one relayed by an older node
	}
	if prev == 0 && seq != 0 {
		// 0: no earlier event of the channel is stored now; older ones may
		// have been removed, so nothing is known before this one.
		d.Prev = seq - 1
	}
	s.window.add(m.Subject, d)
	s.bus.handler(d)
}

// check fills what a subscription should have received up to the stream
// position in the marker.
func (s *shard) check(m *nats.Msg) {
	last, known := s.last[m.Reply]
	upTo, _ := strconv.ParseUint(m.Header.Get(hdrSeq), 10, 64)
	if !known || upTo <= last {
		return
	}
	app, channel, ok := splitOut(m.Reply)
	if !ok {
		return
	}
	if filled := s.fill(m.Reply, app, channel, last, upTo+1); filled > last {
		s.last[m.Reply] = filled
	}
}

// fill delivers the stored events between last and seq that this node missed
// (a NATS reconnect, a dropped message of a slow subscription, interest that
// had not reached the stream's leader yet) and returns the sequence of the
// last one it delivered (last when none).
func (s *shard) fill(subject, app, channel string, last, seq uint64) uint64 {
	ctx, cancel := context.WithTimeout(s.bus.ctx, 5*time.Second)
	defer cancel()
	missed, err := s.bus.After(ctx, app, channel, last, seq, 0)
	if err != nil {
		s.bus.log.Error("gap fill failed", slog.String("app", app), slog.String("channel", channel),
			slog.Uint64("after", last), slog.Uint64("before", seq), slog.Any("err", err))
	}
	for _, d := range missed {
		s.window.add(subject, d)
		s.bus.handler(d)
		last = d.Seq
	}
	if len(missed) > 0 {
		s.bus.log.Warn("filled a gap from the stream", slog.String("app", app), slog.String("channel", channel),
			slog.Int("events", len(missed)))
	}
	return last
}

// headerUint reads a number header; 0 when it is absent, as on a relayed
// client event (parsing "" would allocate an error per message).
func headerUint(h nats.Header, key string) uint64 {
	v := h.Get(key)
	if v == "" {
		return 0
	}
	n, _ := strconv.ParseUint(v, 10, 64)
	return n
}
