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
