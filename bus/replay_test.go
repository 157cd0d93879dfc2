package bus

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestReplayRefusesIncompletePositions (issue 13 #9, #10): a position the
// stream cannot prove complete is a *GapError carrying the stream's last
// sequence; so is a backlog over the limit, found with one read.
func TestReplayRefusesIncompletePositions(t *testing.T) {
	b, _ := openTest(t)
	ensureApp(t, b, "big", 64<<20)
	ensureApp(t, b, "tiny", 4096)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seqs := publishN(t, b, "big", "r", 300)
	last := seqs[len(seqs)-1]

	gap := func(what string, err error) *GapError {
		t.Helper()
		var g *GapError
		if !errors.As(err, &g) || !errors.Is(err, ErrGap) {
			t.Fatalf("%s: got %v, want a gap", what, err)
		}
		return g
	}
	_, err := b.Replay(ctx, "big", "r", last+5, 10000)
	if g := gap("position beyond the stream", err); g.Last != last || g.First != seqs[0] {
		t.Fatalf("gap positions last %d first %d, want the stream's last %d and first %d", g.Last, g.First, last, seqs[0])
	}
	// Positions of a stream that was reset: the new one starts at the
	// clock, far above them.
	if g := gap("position of an earlier stream", func() error { _, err := b.Replay(ctx, "big", "r", 55, 10000); return err }()); g.First != seqs[0] {
		t.Fatalf("gap of an earlier stream: first %d, want the stream's first %d", g.First, seqs[0])
	}

	reads := b.streamReads.Load()
	_, err = b.Replay(ctx, "big", "r", seqs[0]-1, 299)
	if g := gap("over the limit", err); g.First != seqs[0] {
		t.Fatalf("over the limit: first %d, want the position after the client's, %d (nothing was lost)", g.First, seqs[0])
	}
	if n := b.streamReads.Load() - reads; n != 1 {
		t.Fatalf("refusing an over-limit replay took %d reads, want 1", n)
	}
	r, err := b.Replay(ctx, "big", "r", seqs[0]-1, 300)
	if err != nil {
		t.Fatalf("replay of exactly the limit: %v", err)
	}
	var got []Delivery
	for {
		evs, err := r.Next(ctx, 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		got = append(got, evs...)
	}
	if len(got) != 300 || got[299].Seq != last {
		t.Fatalf("replayed %d events up to %d, want 300 up to %d", len(got), got[len(got)-1].Seq, last)
	}
	if n := r.StreamReads(); n != 4 {
		t.Fatalf("replaying 300 events in pages of 100 took %d stream reads, want 4 (the first 64, then 100, 100, 36)", n)
	}

	// 4 KiB of history: the first events age out.
	tiny := publishN(t, b, "tiny", "t", 200)
	_, err = b.Replay(ctx, "tiny", "t", tiny[0], 10000)
	g := gap("events removed by the stream's limits", err)
	kept, err := b.After(ctx, "tiny", "t", 0, 0, 1)
	if err != nil || len(kept) != 1 {
		t.Fatalf("first kept event of tiny: %v %v", kept, err)
	}
	if g.First != kept[0].Seq || g.First <= tiny[1] {
		t.Fatalf("events removed: first %d, want the first event still stored, %d", g.First, kept[0].Seq)
	}
}

// TestReplayFromWindow: a resume of events this node received while it
// had interest in the channel reads no stream; after the interest ends the
// window is not used.
func TestReplayFromWindow(t *testing.T) {
	b, got := openTestWith(t, Options{WindowBytes: 16 << 20})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	early := publishN(t, b, "k.e y", "w", 5) // before the interest: not in the window
	sub, err := b.Subscribe("k.e y", "w")
	if err != nil {
		t.Fatal(err)
	}
	seqs := publishN(t, b, "k.e y", "w", 50)
	if _, err := b.Publish(ctx, "k.e y", Outgoing{Channel: "w", Frame: []byte("x"), Exclude: "1.2"}); err != nil {
		t.Fatal(err)
	}
	for range 51 {
		next(t, got)
	}
	reads := b.streamReads.Load()
	r, err := b.Replay(ctx, "k.e y", "w", seqs[9], 10000)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := r.Next(ctx, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !r.FromWindow() || b.streamReads.Load() != reads {
		t.Fatalf("replay from the window: from window %v, %d stream reads; want no read", r.FromWindow(), b.streamReads.Load()-reads)
	}
	if len(evs) != 41 || string(evs[0].Frame) != "10" || evs[39].Seq != seqs[49] || evs[40].Exclude != "1.2" {
		t.Fatalf("replayed %d events %+v, want 10..49 and x excluding 1.2", len(evs), evs)
	}
	if more, _ := r.Next(ctx, 1000, 0); len(more) != 0 {
		t.Fatalf("after catching up: %d more events", len(more))
	}
	// Too many for the limit, found in the window: nothing was lost, so
	// the first position kept is the one after the client's.
	var g *GapError
	if _, err := b.Replay(ctx, "k.e y", "w", seqs[9], 10); !errors.As(err, &g) || g.First != seqs[9]+1 || g.Last != seqs[9+11] {
		t.Fatalf("over the limit in the window: %v (%+v), want a gap with first %d", err, g, seqs[9]+1)
	}
	// The first event received says which event of the channel came
	// before it: the window covers a resume from there on ...
	if r, err = b.Replay(ctx, "k.e y", "w", early[4], 10000); err != nil || !r.FromWindow() {
		t.Fatalf("replay from the event before the window: %v, from window %v; want the window", err, r != nil && r.FromWindow())
	}
	// ... and not from before: the stream is read.
	r, err = b.Replay(ctx, "k.e y", "w", early[2], 10000)
	if err != nil || r.FromWindow() {
		t.Fatalf("replay from before the window: %v, from window %v; want the stream", err, r != nil && r.FromWindow())
	}
	if evs, _ := r.Next(ctx, 1000, 0); len(evs) != 2+51 || string(evs[0].Frame) != "3" {
		t.Fatalf("replay from the stream: %d events, want 53 starting with the 4th early one", len(evs))
	}
	sub.Unsubscribe()
	if r, err = b.Replay(ctx, "k.e y", "w", seqs[9], 10000); err != nil || r.FromWindow() {
		t.Fatalf("replay after the interest ended: %v, from window %v; want the stream", err, r != nil && r.FromWindow())
	}
}
