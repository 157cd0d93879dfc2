package bus

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// ensureApp creates the stream of another app of the test bus.
func ensureApp(t testing.TB, b *Bus, key string, maxBytes int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.EnsureApp(ctx, AppStream{Key: key, MaxAge: time.Hour, MaxBytes: maxBytes}); err != nil {
		t.Fatalf("ensure app %s: %v", key, err)
	}
}

// publishN stores n events on channel (frames "0".."n-1"), 100 per call,
// and returns their sequences.
func publishN(t testing.TB, b *Bus, app, channel string, n int) []uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var seqs []uint64
	for i := 0; i < n; i += 100 {
		var evs []Outgoing
		for j := i; j < min(i+100, n); j++ {
			evs = append(evs, Outgoing{Channel: channel, Frame: []byte(strconv.Itoa(j))})
		}
		s, err := b.Publish(ctx, app, evs...)
		if err != nil {
			t.Fatalf("publish: %v", err)
		}
		seqs = append(seqs, s...)
	}
	return seqs
}

// serverMsgsIn is how many messages the embedded server received so far
// (each stream read request is one).
func serverMsgsIn(t *testing.T, b *Bus) int64 {
	t.Helper()
	v, err := b.emb.server().Varz(nil)
	if err != nil {
		t.Fatal(err)
	}
	return v.InMsgs
}

// TestAfterReadsInBatches (issue 13 #10): reading 10,001 stored events
// costs a handful of requests to the server, not one per event (it took
// 10,001 one-at-a-time reads, and a loop of resumes held the CPU).
func TestAfterReadsInBatches(t *testing.T) {
	b, _ := openTest(t)
	ensureApp(t, b, "big", 64<<20)
	seqs := publishN(t, b, "big", "r", 12000)
	before := serverMsgsIn(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ds, err := b.After(ctx, "big", "r", seqs[0]-1, 0, 10001)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 10001 {
		t.Fatalf("read %d events, want 10001", len(ds))
	}
	for i, d := range ds {
		if d.Seq != seqs[i] || string(d.Frame) != strconv.Itoa(i) {
			t.Fatalf("event %d: seq %d frame %q, want seq %d frame %d", i, d.Seq, d.Frame, seqs[i], i)
		}
	}
	if n := serverMsgsIn(t, b) - before; n > 50 {
		t.Fatalf("reading 10,001 events took %d requests, want a few batches (at most 50)", n)
	}
}
