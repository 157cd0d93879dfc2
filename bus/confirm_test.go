package bus

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// loseInterest drops the NATS subscription behind sub without telling its
// shard, as interest that has not reached the stream's leader yet looks, and
// returns a function that restores it.
func loseInterest(t *testing.T, b *Bus, sub *Subscription) (restore func()) {
	t.Helper()
	if err := sub.sub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	return func() {
		s, err := b.nc.ChanSubscribe(sub.sub.Subject, sub.shard.in)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Unsubscribe() })
		if err := b.nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
}

func publish(t *testing.T, b *Bus, frame string) {
	t.Helper()
	if _, err := b.Publish(context.Background(), "k.e y", Outgoing{Channel: "c", Frame: []byte(frame)}); err != nil {
		t.Fatal(err)
	}
}

func expectFrames(t *testing.T, got chan Delivery, want ...string) {
	t.Helper()
	for _, w := range want {
		if d := next(t, got); string(d.Frame) != w {
			t.Fatalf("got frame %q, want %q", d.Frame, w)
		}
	}
	select {
	case d := <-got:
		t.Fatalf("unexpected delivery %q", d.Frame)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestFirstEventAfterSubscribeBringsWhatWasLost: with confirmation on (as on
// a NATS cluster) the first event a new subscription receives reveals the
// owed ones that did not arrive, and they are read from the stream; what
// was stored before the subscription is not owed.
func TestFirstEventAfterSubscribeBringsWhatWasLost(t *testing.T) {
	b, got := openTestWith(t, Options{Confirm: time.Hour})
	publish(t, b, "before")
	sub, err := b.Subscribe("k.e y", "c")
	if err != nil {
		t.Fatal(err)
	}
	restore := loseInterest(t, b, sub)
	publish(t, b, "1")
	restore()
	publish(t, b, "2")
	expectFrames(t, got, "1", "2")
}

// TestCheckAfterSubscribeBringsWhatWasLost: when no later event comes, the
// check after Options.Confirm reads what the subscription missed.
func TestCheckAfterSubscribeBringsWhatWasLost(t *testing.T) {
	b, got := openTestWith(t, Options{Confirm: 300 * time.Millisecond})
	publish(t, b, "before")
	sub, err := b.Subscribe("k.e y", "c")
	if err != nil {
		t.Fatal(err)
	}
	restore := loseInterest(t, b, sub)
	publish(t, b, "1")
	publish(t, b, "2")
	restore()
	expectFrames(t, got, "1", "2")
	// Later events arrive once, after the filled ones.
	publish(t, b, "3")
	expectFrames(t, got, "3")
}

// TestNoCheckOnSingleServer: the embedded server registers interest before
// Subscribe returns, so nothing is read back by default.
func TestNoCheckOnSingleServer(t *testing.T) {
	b, _ := openTest(t)
	if d := b.confirmer.after(); d != 0 {
		t.Fatalf("confirm delay on the embedded server: %s, want none", d)
	}
}

// TestChecksShareStreamReads: fifty channels subscribed together, each
// missing its first event, all get it from the checks, which cost a few
// stream reads, not one per channel.
func TestChecksShareStreamReads(t *testing.T) {
	b, got := openTestWith(t, Options{Confirm: 300 * time.Millisecond})
	const n = 50
	var restores []func()
	for i := range n {
		sub, err := b.Subscribe("k.e y", fmt.Sprintf("c%d", i))
		if err != nil {
			t.Fatal(err)
		}
		restores = append(restores, loseInterest(t, b, sub))
	}
	for i := range n {
		if _, err := b.Publish(context.Background(), "k.e y", Outgoing{Channel: fmt.Sprintf("c%d", i), Frame: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range restores {
		r()
	}
	seen := map[string]bool{}
	for range n {
		d := next(t, got)
		if seen[d.Channel] {
			t.Fatalf("%s delivered twice", d.Channel)
		}
		seen[d.Channel] = true
	}
	// n base reads at most (fewer when they overlap), and the checks a handful.
	if reads := b.confirmer.reads.Load(); reads > n+5 {
		t.Fatalf("%d stream reads for %d subscriptions, want at most %d", reads, n, n+5)
	}
	t.Logf("%d stream reads for %d subscriptions", b.confirmer.reads.Load(), n)
}
