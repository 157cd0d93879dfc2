package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrGap reports that the events after a position are not all available
// any more, so a resume from it cannot be complete.
var ErrGap = errors.New("bus: the events after this position are not all available")

// GapError is ErrGap with its reason, the stream's last sequence when it
// was found (the position a client continues from after giving up) and the
// first position after the client's that the stream still holds.
type GapError struct {
	Reason string
	Last   uint64
	// First is the lowest position such that the stream holds every event
	// of the channel from it on: the client's position + 1 when nothing
	// was lost (too many events follow), the stream's first event when
	// older ones were removed or the stream was reset; 0 when unknown.
	First uint64
}

func (e *GapError) Error() string { return "resume: " + e.Reason }

// Is makes errors.Is(err, ErrGap) true.
func (e *GapError) Is(target error) bool { return target == ErrGap }

// firstPage is how many events a stream replay reads at first: a typical
// resume is done with it, and its answer also tells how many follow.
const firstPage = 64

// Replay reads one channel's events after a position, page by page, from
// the node's window of recent events while it holds them and from the
// stream otherwise.
type Replay struct {
	b             *Bus
	app, channel  string
	subject       string
	sh            *shard
	pos           uint64     // the last sequence returned
	ahead         []Delivery // read, not returned yet
	caughtUp      bool       // the last stream read found nothing after ahead
	streamReads   int
	windowStarted bool
}

// Replay opens a replay of channel's events after position from. It fails
// with a *GapError when the stream cannot prove it holds every one of them
// (the position is beyond the stream's last event, older events were
// removed, or the stream was reset) or when more than limit follow.
func (b *Bus) Replay(ctx context.Context, app, channel string, from uint64, limit int) (*Replay, error) {
	subj := outSubject(EncodeToken(app), EncodeToken(channel))
	r := &Replay{b: b, app: app, channel: channel, subject: subj, sh: b.shardOf(subj), pos: from}
	if evs, ok := r.sh.window.read(subj, from, limit+1, 0); ok {
		r.windowStarted = true
		if len(evs) > limit {
			return nil, &GapError{Reason: fmt.Sprintf("more than %d events to replay", limit), Last: evs[len(evs)-1].Seq,
				First: r.firstKept(ctx)}
		}
		r.ahead = evs
		return r, nil
	}
	st, err := r.checkStream(ctx)
	if err != nil {
		return nil, err
	}
	first, err := b.readBatch(ctx, app, channel, from+1, min(firstPage, limit+1), 0)
	r.streamReads++
	if err != nil {
		return nil, err
	}
	if uint64(len(first.events))+first.more > uint64(limit) {
		return nil, &GapError{Reason: fmt.Sprintf("more than %d events to replay", limit), Last: st.LastSeq, First: from + 1}
	}
	r.ahead, r.caughtUp = first.events, first.more == 0
	return r, nil
}

// checkStream verifies that the stream holds every event after r.pos and
// returns its state.
func (r *Replay) checkStream(ctx context.Context) (jetstream.StreamState, error) {
	st, err := r.b.state(ctx, r.app)
	if err != nil {
		return st, err
	}
	switch {
	case r.pos > st.LastSeq:
		return st, &GapError{Reason: fmt.Sprintf("position %d is beyond the stream's last event %d (the stream was reset)", r.pos, st.LastSeq),
			Last: st.LastSeq, First: st.FirstSeq}
	case st.FirstSeq > r.pos+1:
		return st, &GapError{Reason: fmt.Sprintf("events after %d are gone (the stream starts at %d)", r.pos, st.FirstSeq),
			Last: st.LastSeq, First: st.FirstSeq}
	}
	return st, nil
}

// firstKept is the first position after r.pos the stream still holds
// (GapError.First), for a refusal found in the window, which reads no
// stream: the window may hold events the stream has removed since. 0 when
// the stream cannot be read.
func (r *Replay) firstKept(ctx context.Context) uint64 {
	st, err := r.b.state(ctx, r.app)
	if err != nil {
		return 0
	}
	return max(r.pos+1, st.FirstSeq)
}

// Next returns the next events, at most n and about maxBytes (0: no
// limit), none when the replay has caught up with what is stored now.
func (r *Replay) Next(ctx context.Context, n, maxBytes int) ([]Delivery, error) {
	if n <= 0 {
		return nil, nil
	}
	var out []Delivery
	switch {
	case len(r.ahead) == 0 && r.caughtUp:
		// The last read said nothing followed: no need to ask again at
		// once (a later call does).
		r.caughtUp = false
		return nil, nil
	case len(r.ahead) > 0:
		k, size := 0, 0
		for k < len(r.ahead) && k < n && (maxBytes <= 0 || k == 0 || size+len(r.ahead[k].Frame) <= maxBytes) {
			size += len(r.ahead[k].Frame)
			k++
		}
		out, r.ahead = r.ahead[:k:k], r.ahead[k:]
	default:
		if evs, ok := r.sh.window.read(r.subject, r.pos, n, maxBytes); ok {
			out = evs
			break
		}
		// Past the window: the stream must still hold what follows pos.
		if _, err := r.checkStream(ctx); err != nil {
			return nil, err
		}
		b, err := r.b.readBatch(ctx, r.app, r.channel, r.pos+1, n, maxBytes)
		r.streamReads++
		if err != nil {
			return nil, err
		}
		out, r.caughtUp = b.events, len(b.events) > 0 && b.more == 0
	}
	if len(out) > 0 {
		r.pos = out[len(out)-1].Seq
	}
	return out, nil
}

// FromWindow reports whether the replay started from the node's window of
// recent events (no stream read for the position).
func (r *Replay) FromWindow() bool { return r.windowStarted }

// StreamReads is how many reads of the stream the replay made so far.
func (r *Replay) StreamReads() int { return r.streamReads }
