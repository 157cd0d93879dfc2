package bus

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Declaring a stream or bucket again keeps it: same settings answer the
// existing one, other settings update it in place, and a change NATS cannot
// make in place is refused without touching what is stored.
func TestCreateFirstKeepsExisting(t *testing.T) {
	b, _ := openTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := b.Publish(ctx, "k.e y", Outgoing{Channel: "c", Frame: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := b.EnsureApp(ctx, AppStream{Key: "k.e y", MaxAge: time.Hour, MaxBytes: 1 << 20}); err != nil {
		t.Fatalf("same settings again: %v", err)
	}
	if err := b.EnsureApp(ctx, AppStream{Key: "k.e y", MaxAge: 2 * time.Hour, MaxBytes: 1 << 20}); err != nil {
		t.Fatalf("new max age: %v", err)
	}
	st, err := b.JetStream().Stream(ctx, streamName(EncodeToken("k.e y")))
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.MaxAge != 2*time.Hour || info.State.Msgs != 1 {
		t.Fatalf("after the update: max age %s, %d messages; want 2h and the stored event", info.Config.MaxAge, info.State.Msgs)
	}
	cfg := info.Config
	cfg.Storage = jetstream.MemoryStorage
	if _, err := b.JetStream().CreateOrUpdateStream(ctx, cfg); err == nil {
		t.Fatal("storage change accepted, want it refused")
	}
	if info, err := st.Info(ctx); err != nil || info.State.Msgs != 1 || info.Config.Storage != jetstream.FileStorage {
		t.Fatalf("after the refused change: %+v %v", info, err)
	}

	for _, ttl := range []time.Duration{time.Minute, time.Minute, 2 * time.Minute} {
		kv, err := b.JetStream().CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "B", TTL: ttl})
		if err != nil {
			t.Fatalf("bucket with ttl %s: %v", ttl, err)
		}
		s, err := kv.Status(ctx)
		if err != nil || s.TTL() != ttl {
			t.Fatalf("bucket ttl %v (%v), want %s", s, err, ttl)
		}
	}
}

// TestNewStreamStartsAtTheClock (issue 13 #9): a new stream's positions
// start at the time in microseconds, so an empty stream has a position to
// resume from; declaring the app again keeps the stream and its events.
func TestNewStreamStartsAtTheClock(t *testing.T) {
	b, _ := openTest(t)
	before := uint64(time.Now().UnixMicro())
	ensureApp(t, b, "fresh", 1<<20)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	last, err := b.LastSeq(ctx, "fresh")
	if err != nil {
		t.Fatal(err)
	}
	if last+1 < before || last > uint64(time.Now().UnixMicro()) {
		t.Fatalf("empty new stream at %d, want about the clock (%d)", last, before)
	}
	seqs := publishN(t, b, "fresh", "c", 3)
	if seqs[0] != last+1 {
		t.Fatalf("first event at %d, want %d", seqs[0], last+1)
	}
	ensureApp(t, b, "fresh", 2<<20) // an update: the first sequence must not move
	if ds, err := b.After(ctx, "fresh", "c", 0, 0, 0); err != nil || len(ds) != 3 {
		t.Fatalf("after the update: %d events %v, want the 3 stored", len(ds), err)
	}
	st, err := b.state(ctx, "fresh")
	if err != nil || st.FirstSeq != seqs[0] {
		t.Fatalf("first sequence after the update: %d %v, want %d", st.FirstSeq, err, seqs[0])
	}
}
