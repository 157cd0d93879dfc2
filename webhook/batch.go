package webhook

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushd/pushd/config"
)

// maxInFlight bounds concurrent webhook requests of one node; beyond it the
// consumer waits, which is the back-pressure we want.
const maxInFlight = 16

// item is one job ready to be sent.
type item struct {
	msg        jetstream.Msg
	app        string
	ev         Event
	by         stamp
	deliveries uint64
	raw        json.RawMessage // the event object as sent
}

// attempt is the number of the send attempt this delivery makes, not
// counting the delivery that only waited out Delay.
func (it item) attempt() int {
	n := int(it.deliveries)
	if it.ev.delayed() && n > 1 {
		n--
	}
	return max(n, 1)
}

// batch gathers the events for one (app, URL).
type batch struct {
	app   config.App
	url   string
	due   time.Time
	items []item
}

// sender owns the open batches of one Run and its requests in flight.
type sender struct {
	d       *Dispatcher
	batches map[string]*batch
	sem     chan struct{}
	wg      sync.WaitGroup
}

func newSender(d *Dispatcher) *sender {
	return &sender{d: d, batches: map[string]*batch{}, sem: make(chan struct{}, maxInFlight)}
}

// add puts an item in its batch, sending the batch when it is full.
func (s *sender) add(ctx context.Context, app config.App, url string, it item) {
	k := it.app + "\x00" + url
	b := s.batches[k]
	if b == nil {
		b = &batch{app: app, url: url, due: time.Now().Add(s.d.opts.BatchWindow)}
		s.batches[k] = b
	}
	b.items = append(b.items, it)
	if len(b.items) >= s.d.opts.BatchMax {
		delete(s.batches, k)
		s.send(ctx, b)
	}
}

// flushDue sends every batch whose window has closed.
func (s *sender) flushDue(ctx context.Context, now time.Time) {
	for k, b := range s.batches {
		if !now.Before(b.due) {
			delete(s.batches, k)
			s.send(ctx, b)
		}
	}
}

// nextDue is the earliest window end among open batches.
func (s *sender) nextDue() (time.Time, bool) {
	var next time.Time
	for _, b := range s.batches {
		if next.IsZero() || b.due.Before(next) {
			next = b.due
		}
	}
	return next, !next.IsZero()
}

// send posts a batch in the background.
func (s *sender) send(ctx context.Context, b *batch) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		for _, it := range b.items {
			s.giveBack(it.msg)
		}
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { <-s.sem }()
		s.d.deliver(ctx, b)
	}()
}

// giveBack returns a job to the queue for immediate redelivery (to another
// node, or to the next Run).
func (s *sender) giveBack(m jetstream.Msg) {
	if err := m.Nak(); err != nil {
		s.d.log.Warn("webhook job nak", "err", err)
	}
}

// stop gives back the jobs of open batches and waits for requests in flight.
func (s *sender) stop() {
	for k, b := range s.batches {
		delete(s.batches, k)
		for _, it := range b.items {
			s.giveBack(it.msg)
		}
	}
	s.wg.Wait()
}
