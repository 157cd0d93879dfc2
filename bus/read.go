package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

// Stream reads in batches: one direct get request answers many messages of
// one subject (nats-server 2.11+), instead of one request per message.
const (
	hdrStatus     = "Status"
	hdrNumPending = "Nats-Num-Pending"
	statusEOB     = "204" // end of a batch
	statusNone    = "404" // nothing at or after the start
	// readMaxBytes bounds the data of one batch answer.
	readMaxBytes = 4 << 20
)

// directGet is the request of a batched direct get.
type directGet struct {
	Seq      uint64 `json:"seq"`
	NextFor  string `json:"next_by_subj"`
	Batch    int    `json:"batch"`
	MaxBytes int    `json:"max_bytes,omitempty"`
}

// batch is the answer of one read: events in stream order, and how many
// more of the subject the stream held after the last one.
type batch struct {
	events []Delivery
	more   uint64
}

// readBatch reads up to n stored events of one channel with a sequence of
// start or more, of at most about maxBytes (0: readMaxBytes), in one
// request to the stream.
func (b *Bus) readBatch(ctx context.Context, app, channel string, start uint64, n, maxBytes int) (batch, error) {
	if maxBytes <= 0 || maxBytes > readMaxBytes {
		maxBytes = readMaxBytes
	}
	tok := EncodeToken(app)
	if _, err := b.stream(tok); err != nil {
		return batch{}, err
	}
	req, err := json.Marshal(directGet{Seq: start, NextFor: eventSubject(tok, EncodeToken(channel)), Batch: n, MaxBytes: maxBytes})
	if err != nil {
		return batch{}, fmt.Errorf("read %s: %w", channel, err)
	}
	inbox := b.nc.NewRespInbox()
	// Room for the whole answer (n events and the end of batch): a
	// subscription's default buffer of 64k messages costs more to allocate
	// than a small read.
	replies := make(chan *nats.Msg, n+1)
	sub, err := b.nc.ChanSubscribe(inbox, replies)
	if err != nil {
		return batch{}, fmt.Errorf("read %s: %w", channel, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	b.streamReads.Add(1)
	if err := b.nc.PublishRequest("$JS.API.DIRECT.GET."+streamName(tok), inbox, req); err != nil {
		return batch{}, fmt.Errorf("read %s: %w", channel, err)
	}
	out := batch{events: make([]Delivery, 0, min(n, 256))}
	prev := start - 1
	for {
		var m *nats.Msg
		select {
		case m = <-replies:
		case <-ctx.Done():
			return out, fmt.Errorf("read %s from %d: %w", channel, start, ctx.Err())
		}
		if st := m.Header.Get(hdrStatus); st != "" && len(m.Data) == 0 {
			switch st {
			case statusEOB:
				out.more, _ = strconv.ParseUint(m.Header.Get(hdrNumPending), 10, 64)
				return out, nil
			case statusNone:
				return out, nil
			}
			return out, fmt.Errorf("read %s from %d: status %s %s", channel, start, st, m.Header.Get("Description"))
		}
		seq, _ := strconv.ParseUint(m.Header.Get(hdrSeq), 10, 64)
		stored, _ := time.Parse(time.RFC3339Nano, m.Header.Get(hdrTime))
		// One subject's events in order: none lies between two of them.
		out.events = append(out.events, Delivery{App: app, Channel: channel, Frame: m.Data, Seq: seq, Prev: prev,
			Exclude: m.Header.Get(hdrExclude), Stored: stored})
		prev = seq
	}
}
