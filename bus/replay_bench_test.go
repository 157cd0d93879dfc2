package bus

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkResume measures one resume of n missed events, read to the end
// as the gateway does (pages of 1,024): from the node's window of recent
// events, from the stream in batches, and, for comparison, from the stream
// one event per request as resumes did before.
//
//	go test -run '^$' -bench BenchmarkResume -benchtime 20x ./bus
func BenchmarkResume(b *testing.B) {
	var delivered atomic.Int64
	bs, err := Open(context.Background(), Options{DataDir: b.TempDir(), Name: "bench", WindowBytes: 256 << 20},
		func(Delivery) { delivered.Add(1) })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(bs.Close)
	ensureApp(b, bs, "app", 256<<20)
	ctx := context.Background()
	frame := `{"event":"n","channel":"c","data":"` + string(make([]byte, 100)) + `"}`
	for _, n := range []int{100, 1000, 10000} {
		// The window keeps up to 1,024 events of a channel.
		if n <= windowEvents {
			ch := "win" + strconv.Itoa(n)
			if _, err := bs.Subscribe("app", ch); err != nil {
				b.Fatal(err)
			}
			want := delivered.Load() + int64(n)
			from := publishFrames(b, bs, ch, frame, n)
			for delivered.Load() < want {
				time.Sleep(time.Millisecond)
			}
			b.Run("window/"+strconv.Itoa(n), func(b *testing.B) { benchReplay(b, bs, ch, from, n, true) })
		}
		ch := "str" + strconv.Itoa(n)
		from := publishFrames(b, bs, ch, frame, n)
		b.Run("stream/"+strconv.Itoa(n), func(b *testing.B) { benchReplay(b, bs, ch, from, n, false) })
		b.Run("one-at-a-time/"+strconv.Itoa(n), func(b *testing.B) {
			st, err := bs.stream(EncodeToken("app"))
			if err != nil {
				b.Fatal(err)
			}
			subj := eventSubject(EncodeToken("app"), EncodeToken(ch))
			for b.Loop() {
				got := 0
				for seq := from + 1; ; {
					m, err := st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subj))
					if err != nil {
						break
					}
					got++
					seq = m.Sequence + 1
				}
				if got != n {
					b.Fatalf("read %d events, want %d", got, n)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// publishFrames stores n copies of frame on ch and returns the position
// before the first.
func publishFrames(b *testing.B, bs *Bus, ch, frame string, n int) uint64 {
	b.Helper()
	var from uint64
	for i := 0; i < n; i += 100 {
		evs := make([]Outgoing, 0, 100)
		for j := i; j < min(i+100, n); j++ {
			evs = append(evs, Outgoing{Channel: ch, Frame: []byte(frame)})
		}
		seqs, err := bs.Publish(context.Background(), "app", evs...)
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			from = seqs[0] - 1
		}
	}
	return from
}

func benchReplay(b *testing.B, bs *Bus, ch string, from uint64, n int, window bool) {
	ctx := context.Background()
	for b.Loop() {
		r, err := bs.Replay(ctx, "app", ch, from, 10000)
		if err != nil {
			b.Fatal(err)
		}
		if r.FromWindow() != window {
			b.Fatalf("replay from the window: %v, want %v", r.FromWindow(), window)
		}
		got := 0
		for {
			evs, err := r.Next(ctx, 1024, 2<<20)
			if err != nil {
				b.Fatal(err)
			}
			if len(evs) == 0 {
				break
			}
			got += len(evs)
		}
		if got != n {
			b.Fatalf("replayed %d events, want %d", got, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
