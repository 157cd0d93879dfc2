package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushd/pushd/config"
)

// maxInFlight bounds concurrent webhook requests of one node, and
// separately the batches it is storing; beyond it the consumer waits,
// which is the back-pressure we want.
const maxInFlight = 16

// held is an event job taken from the queue. It may go to several
// endpoints: it is acked once every batch holding it is stored, and given
// back if one could not be.
type held struct {
	msg    jetstream.Msg
	left   atomic.Int32
	failed atomic.Bool
}

// settle records that one batch holding the job was stored (ok) or not.
func (h *held) settle(d *Dispatcher, ok bool) {
	if !ok {
		h.failed.Store(true)
	}
	if h.left.Add(-1) != 0 {
		return
	}
	if h.failed.Load() {
		if err := h.msg.Nak(); err != nil {
			d.log.Warn("webhook job nak", "err", err)
		}
		return
	}
	d.ack(h.msg)
}

// item is one event of a job, shaped for one endpoint.
type item struct {
	job *held
	ev  Event
	by  stamp
	raw json.RawMessage // the event object as the endpoint gets it, without seq
}

// batch gathers the events for one (app, endpoint) for the app's window.
type batch struct {
	key   string // app key and endpoint name
	app   config.App
	ep    endpoint
	max   int
	due   time.Time
	items []item
}

// sender owns the open batches of one Run, the batches being stored and
// the attempts in flight.
type sender struct {
	d       *Dispatcher
	batches map[string]*batch
	storing chan struct{} // semaphore of batches being stored
	sending chan struct{} // semaphore of attempts in flight
	wg      sync.WaitGroup
	// numbered holds, per (app, endpoint), a channel closed once the last
	// batch formed here has its numbers: the next one waits for it, so a
	// node numbers an endpoint's batches in the order it formed them.
	numbered map[string]chan struct{}
}

func newSender(d *Dispatcher) *sender {
	return &sender{d: d, batches: map[string]*batch{}, numbered: map[string]chan struct{}{},
		storing: make(chan struct{}, maxInFlight), sending: make(chan struct{}, maxInFlight)}
}

// add puts an item in its batch, storing the batch when it is full.
func (s *sender) add(ctx context.Context, app config.App, ep endpoint, it item) {
	k := app.Key + "\x00" + ep.name
	b := s.batches[k]
	if b == nil {
		t := s.d.timing(&app)
		b = &batch{key: k, app: app, ep: ep, max: t.batchMax, due: time.Now().Add(t.window)}
		s.batches[k] = b
	}
	b.items = append(b.items, it)
	if len(b.items) >= b.max {
		delete(s.batches, k)
		s.store(ctx, b)
	}
}

// flushDue stores every batch whose window has closed.
func (s *sender) flushDue(ctx context.Context, now time.Time) {
	for k, b := range s.batches {
		if !now.Before(b.due) {
			delete(s.batches, k)
			s.store(ctx, b)
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

// spawn runs f in the background once sem has room; when ctx ends first it
// runs cancelled instead, on this goroutine.
func (s *sender) spawn(ctx context.Context, sem chan struct{}, f func(), cancelled func()) {
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		cancelled()
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { <-sem }()
		f()
	}()
}

// store numbers and stores a batch in the background, after the batch
// formed before it for the same endpoint has its numbers.
func (s *sender) store(ctx context.Context, b *batch) {
	prev, mine := s.numbered[b.key], make(chan struct{})
	s.numbered[b.key] = mine
	s.spawn(ctx, s.storing, func() { s.d.form(ctx, b, prev, mine) }, func() {
		close(mine)
		for _, it := range b.items {
			it.job.settle(s.d, false)
		}
	})
}

// form gives a batch its sequences and delivery id and stores it as a
// batch job, then releases its event jobs. Once begun it is finished even
// when ctx ends (bounded by Timeout): numbers taken and not stored would
// leave a hole in the endpoint's sequence.
func (d *Dispatcher) form(ctx context.Context, b *batch, prev <-chan struct{}, numbered chan<- struct{}) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.opts.Timeout)
	defer cancel()
	ok := false
	defer func() {
		for _, it := range b.items {
			it.job.settle(d, ok)
		}
	}()
	if prev != nil {
		select {
		case <-prev:
		case <-ctx.Done():
		}
	}
	b.keepAlive(d)
	first, err := d.reserve(ctx, b.app.Key, b.ep.name, len(b.items))
	close(numbered)
	if err != nil {
		d.log.Warn("webhook batch not numbered, its jobs go back", "app", b.app.Key, "endpoint", b.ep.name, "err", err)
		return
	}
	bj := batchJob{App: b.app.Key, Endpoint: b.ep.name, Delivery: newDeliveryID(), First: first,
		Events: make([]json.RawMessage, len(b.items))}
	for i, it := range b.items {
		bj.Events[i] = withSeq(it.raw, first+uint64(i))
		if _, stateful := it.ev.reportedState(); stateful {
			bj.States = append(bj.States, stateRef{Event: it.ev, By: it.by})
		}
		if bj.Since == 0 || it.by.T < bj.Since {
			bj.Since = it.by.T
		}
	}
	data, err := json.Marshal(bj)
	if err != nil {
		d.log.Error("webhook batch unencodable", "app", b.app.Key, "err", err)
		return
	}
	wait := 100 * time.Millisecond
	for {
		_, err = d.js.Publish(ctx, subjectPrefix+token(bj.App)+batchSuffix, data, jetstream.WithMsgID(bj.Delivery))
		if err == nil {
			d.stats.batches.Add(1)
			ok = true
			return
		}
		select {
		case <-ctx.Done():
			d.log.Warn("webhook batch not stored, its jobs go back; its numbers stay unused",
				"app", b.app.Key, "endpoint", b.ep.name, "seq", first, "events", len(b.items), "err", err)
			return
		case <-time.After(wait):
			wait = min(2*wait, time.Second)
		}
		b.keepAlive(d)
	}
}

// keepAlive tells JetStream that the batch's jobs are still being worked
// on when the batch is late (it waited for a free slot, or JetStream is
// slow to store it), so that no job reaches the ack wait and goes to
// another node while this one still holds it.
func (b *batch) keepAlive(d *Dispatcher) {
	if time.Since(b.due) < time.Second {
		return
	}
	var last *held
	for _, it := range b.items {
		if it.job == last {
			continue
		}
		last = it.job
		if err := it.job.msg.InProgress(); err != nil {
			d.log.Debug("webhook job in progress", "err", err)
		}
	}
}

// newDeliveryID returns a random delivery id (128 bits, hex).
func newDeliveryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// withSeq appends "seq":n to an encoded event object.
func withSeq(raw json.RawMessage, n uint64) json.RawMessage {
	out := make([]byte, 0, len(raw)+24)
	out = append(out, raw[:len(raw)-1]...)
	out = append(out, `,"seq":`...)
	out = strconv.AppendUint(out, n, 10)
	return append(out, '}')
}

// giveBack returns a job to the queue for immediate redelivery (to another
// node, or to the next Run).
func (s *sender) giveBack(m jetstream.Msg) {
	if err := m.Nak(); err != nil {
		s.d.log.Warn("webhook job nak", "err", err)
	}
}

// stop gives back the jobs of open batches and waits for the batches being
// stored and the attempts in flight.
func (s *sender) stop() {
	for k, b := range s.batches {
		delete(s.batches, k)
		for _, it := range b.items {
			it.job.settle(s.d, false)
		}
	}
	s.wg.Wait()
}

// String names a batch job for logs.
func (b *batchJob) String() string {
	return fmt.Sprintf("%s/%s #%d-%d (%s)", b.App, b.Endpoint, b.First, b.last(), b.Delivery)
}
