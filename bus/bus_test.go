package bus

import (
	"context"
	"testing"
	"time"
)

// openTest starts a bus on an embedded server in a temp dir; deliveries go
// to the returned channel.
func openTest(t *testing.T) (*Bus, chan Delivery) {
	t.Helper()
	return openTestWith(t, Options{})
}

// openTestWith is openTest with options (DataDir and Name are set here).
func openTestWith(t *testing.T, opts Options) (*Bus, chan Delivery) {
	t.Helper()
	got := make(chan Delivery, 100)
	opts.DataDir, opts.Name = t.TempDir(), "test"
	b, err := Open(context.Background(), opts, func(d Delivery) { got <- d })
	if err != nil {
		t.Fatalf("open bus: %v", err)
	}
	t.Cleanup(b.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.EnsureApp(ctx, AppStream{Key: "k.e y", MaxAge: time.Hour, MaxBytes: 1 << 20}); err != nil {
		t.Fatalf("ensure app: %v", err)
	}
	return b, got
}

func next(t *testing.T, got chan Delivery) Delivery {
	t.Helper()
	select {
	case d := <-got:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("no delivery within 5s")
	}
	return Delivery{}
}

func TestPublishDeliversInOrderWithSequence(t *testing.T) {
	b, got := openTest(t)
	const ch = "private-a.b;c@d"
	sub, err := b.Subscribe("k.e y", ch)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	ctx := context.Background()
	seqs, err := b.Publish(ctx, "k.e y", Outgoing{Channel: ch, Frame: []byte("1"), Exclude: "1.2"}, Outgoing{Channel: ch, Frame: []byte("2")})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"1", "2"} {
		d := next(t, got)
		if d.App != "k.e y" || d.Channel != ch || string(d.Frame) != want || d.Seq != seqs[i] {
			t.Fatalf("delivery %d: got %+v, want frame %s seq %d on %s", i, d, want, seqs[i], ch)
		}
		if i == 0 && d.Exclude != "1.2" {
			t.Fatalf("exclude: got %q, want 1.2", d.Exclude)
		}
	}
	last, err := b.Last(ctx, "k.e y", ch)
	if err != nil || string(last.Frame) != "2" || last.Seq != seqs[1] {
		t.Fatalf("last: got %+v %v, want frame 2 seq %d", last, err, seqs[1])
	}
	if _, err := b.Last(ctx, "k.e y", "other"); err != ErrNotFound {
		t.Fatalf("last of empty channel: got %v, want ErrNotFound", err)
	}
}

func TestNoDeliveryWithoutInterest(t *testing.T) {
	b, got := openTest(t)
	sub, err := b.Subscribe("k.e y", "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(context.Background(), "k.e y", Outgoing{Channel: "b", Frame: []byte("x")}, Outgoing{Channel: "a", Frame: []byte("y")}); err != nil {
		t.Fatal(err)
	}
	if d := next(t, got); d.Channel != "a" {
		t.Fatalf("got delivery on %q, want only channel a", d.Channel)
	}
	sub.Unsubscribe()
	if _, err := b.Publish(context.Background(), "k.e y", Outgoing{Channel: "a", Frame: []byte("z")}); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-got:
		t.Fatalf("delivery after unsubscribe: %+v", d)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestGapIsFilledFromStream loses one republished message (the NATS
// subscription is gone while it is stored) and checks that the next message
// brings it back, in order.
func TestGapIsFilledFromStream(t *testing.T) {
	b, got := openTest(t)
	ctx := context.Background()
	sub, err := b.Subscribe("k.e y", "c")
	if err != nil {
		t.Fatal(err)
	}
	b.Publish(ctx, "k.e y", Outgoing{Channel: "c", Frame: []byte("1")})
	next(t, got)
	// Drop the core subscription without telling the shard, as a lost
	// message would look.
	sub.sub.Unsubscribe()
	b.Publish(ctx, "k.e y", Outgoing{Channel: "c", Frame: []byte("2")})
	sub2, err := b.nc.ChanSubscribe(sub.sub.Subject, sub.shard.in)
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Unsubscribe()
	b.nc.Flush()
	b.Publish(ctx, "k.e y", Outgoing{Channel: "c", Frame: []byte("3")})
	for _, want := range []string{"2", "3"} {
		if d := next(t, got); string(d.Frame) != want {
			t.Fatalf("got frame %q, want %q", d.Frame, want)
		}
	}
}

func TestAfterReadsRange(t *testing.T) {
	b, _ := openTest(t)
	ctx := context.Background()
	var seqs []uint64
	for _, f := range []string{"a", "b", "c"} {
		s, err := b.Publish(ctx, "k.e y", Outgoing{Channel: "r", Frame: []byte(f)}, Outgoing{Channel: "noise", Frame: []byte("n")})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, s[0])
	}
	ds, err := b.After(ctx, "k.e y", "r", seqs[0], 0, 0)
	if err != nil || len(ds) != 2 || string(ds[0].Frame) != "b" || string(ds[1].Frame) != "c" {
		t.Fatalf("after %d: got %+v %v, want b, c", seqs[0], ds, err)
	}
	ds, _ = b.After(ctx, "k.e y", "r", 0, seqs[2], 0)
	if len(ds) != 2 || string(ds[1].Frame) != "b" {
		t.Fatalf("before %d: got %+v, want a, b", seqs[2], ds)
	}
	if ds, _ = b.After(ctx, "k.e y", "r", 0, 0, 1); len(ds) != 1 || string(ds[0].Frame) != "a" {
		t.Fatalf("at most 1: got %+v, want a", ds)
	}
}

func TestControl(t *testing.T) {
	b, _ := openTest(t)
	got := make(chan string, 1)
	if err := b.SubscribeControl("terminate", func(app string, data []byte) { got <- app + "/" + string(data) }); err != nil {
		t.Fatal(err)
	}
	if err := b.PublishControl("k.e y", "terminate", []byte("u1")); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "k.e y/u1" {
			t.Fatalf("control: got %q, want k.e y/u1", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no control message")
	}
}

// TestNotifyAndTapControl: a message sent with Notify reaches a tap of its
// app and kind, and a tap of another app does not see it; after stop, the
// tap sees nothing more.
func TestNotifyAndTapControl(t *testing.T) {
	b, _ := openTest(t)
	got := make(chan string, 4)
	stop, err := b.TapControl("k.e y", ControlFeed, func(data []byte) { got <- string(data) })
	if err != nil {
		t.Fatal(err)
	}
	other, err := b.TapControl("other", ControlFeed, func(data []byte) { got <- "other saw " + string(data) })
	if err != nil {
		t.Fatal(err)
	}
	defer other()
	if err := b.Notify("k.e y", ControlFeed, []byte(`{"type":"connected"}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != `{"type":"connected"}` {
			t.Fatalf("tap: got %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no feed message")
	}
	stop()
	if err := b.Notify("k.e y", ControlFeed, []byte("after stop")); err != nil {
		t.Fatal(err)
	}
	// A round trip through the server orders what follows after the
	// message: a control message to an app nobody taps comes back first.
	done := make(chan struct{})
	if err := b.SubscribeControl(ControlWatch, func(string, []byte) { close(done) }); err != nil {
		t.Fatal(err)
	}
	if err := b.PublishControl("k.e y", ControlWatch, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("no watch message")
	}
	select {
	case s := <-got:
		t.Fatalf("after stop the tap saw %q", s)
	default:
	}
}
