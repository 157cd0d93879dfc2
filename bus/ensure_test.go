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
	// What the server reports matches the declaration, so a restart or a
	// reload leaves the stream alone; another retention does not.
	declared := b.appStreamConfig(AppStream{Key: "k.e y", MaxAge: 2 * time.Hour, MaxBytes: 1 << 20})
	if !sameStreamConfig(declared, info.Config) {
		t.Fatalf("declared %+v\nreported %+v\nwant them to match", declared, info.Config)
	}
	if sameStreamConfig(b.appStreamConfig(AppStream{Key: "k.e y", MaxAge: time.Hour, MaxBytes: 1 << 20}), info.Config) {
		t.Fatal("a different max age matches, want it to lead to an update")
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
	// The buckets pushd declares (presence's, the webhook state's) match
	// what the server reports back.
	for _, cfg := range []jetstream.KeyValueConfig{
		{Bucket: "P", Description: "presence-like", History: 1, TTL: 10 * time.Second, LimitMarkerTTL: 10 * time.Second, Storage: jetstream.FileStorage, Replicas: 1},
		{Bucket: "W", Description: "webhook-state-like", History: 1, TTL: 24 * time.Hour, Storage: jetstream.FileStorage},
	} {
		kv, err := b.JetStream().CreateOrUpdateKeyValue(ctx, cfg)
		if err != nil {
			t.Fatalf("bucket %s: %v", cfg.Bucket, err)
		}
		st, err := kv.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		have := st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config
		if !sameBucketConfig(cfg, have) {
			t.Fatalf("bucket %s: declared %+v, reported %+v, want them to match", cfg.Bucket, cfg, have)
		}
		changed := cfg
		changed.TTL *= 2
		if sameBucketConfig(changed, have) {
			t.Fatalf("bucket %s: another ttl matches, want it to lead to an update", cfg.Bucket)
		}
	}
}

// TestEnsureOnSmallStore is issue 13 #3: on a disk with just room for the
// app streams' reservations (JetStream's max store), the first start
// worked, a restart failed with "insufficient storage" (the streams were
// created again and their reservation counted twice) and so did a reload.
func TestEnsureOnSmallStore(t *testing.T) {
	const perApp = 1 << 20
	apps := []AppStream{{Key: "small-a", MaxAge: time.Hour, MaxBytes: perApp}, {Key: "small-b", MaxAge: time.Hour, MaxBytes: perApp}}
	dir := t.TempDir()
	open := func(what string) *Bus {
		t.Helper()
		b, err := Open(context.Background(), Options{DataDir: dir, Name: "small", MaxStore: 2*perApp + perApp/2}, func(Delivery) {})
		if err != nil {
			t.Fatalf("%s: open: %v", what, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, a := range apps {
			if err := b.EnsureApp(ctx, a); err != nil {
				b.Close()
				t.Fatalf("%s: ensure %s: %v", what, a.Key, err)
			}
		}
		return b
	}
	b := open("first start")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := b.Publish(ctx, "small-a", Outgoing{Channel: "c", Frame: []byte("kept")}); err != nil {
		t.Fatal(err)
	}
	b.Close()

	b = open("restart")
	defer b.Close()
	for _, a := range apps { // a reload declares the same streams again
		if err := b.EnsureApp(ctx, a); err != nil {
			t.Fatalf("reload: ensure %s: %v", a.Key, err)
		}
	}
	// A reload that changes a setting updates the stream in place.
	if err := b.EnsureApp(ctx, AppStream{Key: "small-a", MaxAge: 2 * time.Hour, MaxBytes: perApp}); err != nil {
		t.Fatalf("reload with a new max age: %v", err)
	}
	got, err := b.Last(ctx, "small-a", "c")
	if err != nil || string(got.Frame) != "kept" {
		t.Fatalf("event stored before the restart: %q %v, want kept", got.Frame, err)
	}
	info, err := b.streams[EncodeToken("small-a")].Info(ctx)
	if err != nil || info.Config.MaxAge != 2*time.Hour {
		t.Fatalf("stream after the reload: %+v %v, want max age 2h", info, err)
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

// TestEnsureShortHistory: an app whose history_max_age is under a minute
// gets its stream (nats-server refused the fixed one-minute de-duplication
// window as longer than the max age, and pushd could not start), and its
// events age out.
func TestEnsureShortHistory(t *testing.T) {
	b, _ := openTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.EnsureApp(ctx, AppStream{Key: "short", MaxAge: time.Second, MaxBytes: 1 << 20}); err != nil {
		t.Fatalf("stream with a max age of 1s: %v", err)
	}
	publishN(t, b, "short", "c", 3)
	for {
		kept, err := b.After(ctx, "short", "c", 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(kept) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d events still stored after %s with a max age of 1s", len(kept), 20*time.Second)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
