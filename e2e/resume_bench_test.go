package e2e

// The cost of resumes that loop (issue 13 #10): two sockets resubscribe to a
// channel with resume_from as fast as the server answers, for 10 s, while
// the server's CPU is measured. Not part of `go test ./...`; run with
//
//	go test -run '^$' -bench ResumeLoop -benchtime 1x ./e2e
//
// "over the cap": the channel holds 12,000 events after the position, so
// every resume ends in recovery_failed. "10,000 replayed": the position is
// 10,000 events back, the most a resume replays; the client reads them all.
// For comparison, the same loop of plain subscribes (a Pushd client, which
// gets a position: one stream read per subscribe).

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
)

func BenchmarkResumeLoop(b *testing.B) {
	for i := 0; i < b.N; i++ {
		s := launchGateways(b, "")[0]
		const ch = "loop"
		benchTrigger(b, s, "warm", 1) // the stream has a position
		p, err := tryDialPeer(nil, s.WSAddr, "/app/app-key?protocol=7&client=pushd-bench")
		if err != nil {
			b.Fatal(err)
		}
		readUntil(b, p, "pusher:connection_established")
		_ = p.send(textFrame(`{"event":"pusher:subscribe","data":{"channel":"loop"}}`))
		f := readUntil(b, p, "pusher_internal:subscription_succeeded")
		var pos struct {
			Seq uint64 `json:"seq"`
		}
		json.Unmarshal(f, &pos)
		p.conn.Close()
		benchTrigger(b, s, ch, 2000)
		mid := pos.Seq + 2000 // 10,000 events before the end
		benchTrigger(b, s, ch, 10000)
		for _, run := range []struct {
			name string
			from uint64
			end  string
		}{
			{"subscribe without resume, for comparison", 0, "pusher_internal:subscription_succeeded"},
			{"over the cap (12,000 missed)", pos.Seq, "pusher:recovery_failed"},
			{"10,000 replayed", mid, ""},
		} {
			var resumes atomic.Int64
			pid := s.cmd.Process.Pid
			cpu0, start := procCPU(pid), time.Now()
			stop := time.Now().Add(10 * time.Second)
			var wg sync.WaitGroup
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					p, err := tryDialPeer(nil, s.WSAddr, "/app/app-key?protocol=7&client=pushd-bench")
					if err != nil {
						b.Error(err)
						return
					}
					defer p.conn.Close()
					readUntil(b, p, "pusher:connection_established")
					for time.Now().Before(stop) {
						sub := `{"event":"pusher:subscribe","data":{"channel":"loop"}}`
						if run.from != 0 {
							sub = fmt.Sprintf(`{"event":"pusher:subscribe","data":{"channel":"loop","resume_from":%d}}`, run.from)
						}
						_ = p.send(textFrame(sub))
						if run.end != "" {
							readUntil(b, p, run.end)
						} else {
							readEvents(b, p, 10000)
						}
						_ = p.send(textFrame(`{"event":"pusher:unsubscribe","data":{"channel":"loop"}}`))
						resumes.Add(1)
					}
				}()
			}
			wg.Wait()
			secs := time.Since(start).Seconds()
			cpu := (procCPU(pid) - cpu0) / secs * 100
			b.Logf("%s: %d resumes in %.1f s (%.0f/s), server CPU %.0f%% of one core", run.name, resumes.Load(), secs, float64(resumes.Load())/secs, cpu)
		}
	}
}

// readUntil reads frames until one named event arrives (failing after 30 s)
// and returns it.
func readUntil(b *testing.B, p *wsPeer, event string) []byte {
	deadline := time.Now().Add(30 * time.Second)
	want := `"event":"` + event + `"`
	for {
		f, err := p.readFrame(time.Until(deadline))
		if err != nil {
			b.Fatalf("waiting for %s: %v", event, err)
		}
		if f.op == opText && strings.Contains(string(f.payload), want) {
			return f.payload
		}
		if f.op == opClose {
			b.Fatalf("closed while waiting for %s: %q", event, f.payload)
		}
	}
}

// readEvents reads frames until n events named "n" arrived.
func readEvents(b *testing.B, p *wsPeer, n int) {
	for range n {
		readUntil(b, p, "n")
	}
}

// benchTrigger stores n events named "n" on ch of app-key, 10 per request.
func benchTrigger(b *testing.B, s *server, ch string, n int) {
	for i := 0; i < n; i += 10 {
		var evs []map[string]string
		for j := i; j < min(i+10, n); j++ {
			evs = append(evs, map[string]string{"channel": ch, "name": "n", "data": "x"})
		}
		body, _ := json.Marshal(map[string]any{"batch": evs})
		q := protocol.SignRequest("app-key", "app-secret", "POST", "/apps/1/batch_events", url.Values{}, body, time.Now())
		resp, err := http.Post(s.APIURL()+"/apps/1/batch_events?"+q.Encode(), "application/json", strings.NewReader(string(body)))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("batch: status %d", resp.StatusCode)
		}
	}
}
