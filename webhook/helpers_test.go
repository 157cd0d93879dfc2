package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushd/pushd/config"
)

// startNATS starts an embedded JetStream server and returns a function that
// opens a new in-process connection to it (one per simulated node).
func startNATS(t *testing.T) func() jetstream.JetStream {
	t.Helper()
	ns, err := server.NewServer(&server.Options{DontListen: true, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	return func() jetstream.JetStream {
		nc, err := nats.Connect("", nats.InProcessServer(ns))
		if err != nil {
			t.Fatalf("nats connect: %v", err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatalf("jetstream: %v", err)
		}
		return js
	}
}

// request is one webhook request as a receiver saw it.
type request struct {
	at     time.Time
	header http.Header
	raw    []byte
	body   struct {
		TimeMS int64             `json:"time_ms"`
		Events []json.RawMessage `json:"events"`
	}
}

// events decodes the request's events in Pusher shape.
func (r request) events(t *testing.T) []Event {
	t.Helper()
	out := make([]Event, len(r.body.Events))
	for i, raw := range r.body.Events {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			t.Fatalf("event %s: %v", raw, err)
		}
	}
	return out
}

// receiver is a webhook endpoint that checks key and signature as a Pusher
// SDK does (401 otherwise, as webman's receiver) and records what it got.
type receiver struct {
	t      *testing.T
	key    string
	secret string
	srv    *httptest.Server
	// status decides the answer to the n-th (1-based) well-signed request
	// (hangUp: none); it runs under mu.
	status func(n int) int

	mu    sync.Mutex
	reqs  []request // accepted with a 2xx
	tried []request // well-signed requests, whatever the answer
	all   int       // well-signed requests, whatever the answer
	bad   int       // missing or wrong key/signature
}

func newReceiver(t *testing.T, key, secret string) *receiver {
	r := &receiver{t: t, key: key, secret: secret}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	if req.Method != http.MethodPost || req.Header.Get("X-Pusher-Key") != r.key ||
		!sdkCheckSignature(r.secret, raw, req.Header.Get("X-Pusher-Signature")) {
		r.bad++
		r.mu.Unlock()
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	r.all++
	code := http.StatusOK
	if r.status != nil {
		code = r.status(r.all)
	}
	got := request{at: time.Now(), header: req.Header.Clone(), raw: raw}
	if err := json.Unmarshal(raw, &got.body); err != nil {
		r.t.Errorf("body %s: %v", raw, err)
	}
	r.tried = append(r.tried, got)
	if code/100 == 2 {
		r.reqs = append(r.reqs, got)
	}
	r.mu.Unlock()
	if code == hangUp {
		// Answer nothing until the client gives up (the body was read, so
		// the server notices the closed connection).
		<-req.Context().Done()
		return
	}
	w.WriteHeader(code)
}

// hangUp as a status makes the receiver never answer.
const hangUp = 0

// requests returns the accepted requests so far.
func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.reqs...)
}

// attempts returns every well-signed request so far, whatever the answer.
func (r *receiver) attempts() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.tried...)
}

// setStatus replaces the answer rule under the receiver's lock.
func (r *receiver) setStatus(f func(n int) int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = f
}

// seqs returns the seq of every event of q, in order.
func (q request) seqs(t *testing.T) []uint64 {
	t.Helper()
	out := make([]uint64, len(q.body.Events))
	for i, raw := range q.body.Events {
		var v struct {
			Seq *uint64 `json:"seq"`
		}
		if err := json.Unmarshal(raw, &v); err != nil || v.Seq == nil {
			t.Fatalf("event %s has no seq (%v)", raw, err)
		}
		out[i] = *v.Seq
	}
	return out
}

// received returns every accepted event in arrival order.
func (r *receiver) received(t *testing.T) []Event {
	var out []Event
	for _, q := range r.requests() {
		out = append(out, q.events(t)...)
	}
	return out
}

func (r *receiver) counts() (all, bad int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.all, r.bad
}

// sdkCheckSignature verifies a webhook as the Pusher server SDKs do,
// independently of Sign: HMAC-SHA256 of the raw body with the secret,
// hex-encoded, compared in constant time.
func sdkCheckSignature(secret string, body []byte, signature string) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	want := hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(want), []byte(signature))
}

// fakeState is a State the test flips.
type fakeState struct {
	mu       sync.Mutex
	occupied map[string]bool
	present  map[string]bool
}

func newFakeState() *fakeState {
	return &fakeState{occupied: map[string]bool{}, present: map[string]bool{}}
}

func (s *fakeState) Occupied(app, channel string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.occupied[app+"/"+channel]
}

func (s *fakeState) Present(app, channel, userID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.present[app+"/"+channel+"/"+userID]
}

func (s *fakeState) setOccupied(app, channel string, v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.occupied[app+"/"+channel] = v
}

func (s *fakeState) setPresent(app, channel, userID string, v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.present[app+"/"+channel+"/"+userID] = v
}

// apps serves a fixed set of apps by key.
func apps(list ...config.App) func(string) (config.App, bool) {
	return func(key string) (config.App, bool) {
		for _, a := range list {
			if a.Key == key {
				return a, true
			}
		}
		return config.App{}, false
	}
}

// testOptions are quick settings for tests.
func testOptions(t *testing.T, appList func(string) (config.App, bool), st State) Options {
	return Options{
		Apps:        appList,
		State:       st,
		Delay:       300 * time.Millisecond,
		BatchWindow: 50 * time.Millisecond,
		RetryBase:   50 * time.Millisecond,
		RetryMax:    200 * time.Millisecond,
		Timeout:     2 * time.Second,
		Logger:      slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// newDispatcher creates a Dispatcher.
func newDispatcher(t *testing.T, js jetstream.JetStream, opts Options) *Dispatcher {
	t.Helper()
	d, err := New(t.Context(), js, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

// run starts d.Run and returns a function that stops it and waits; the
// stop also runs at cleanup.
func run(t *testing.T, d *Dispatcher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("Run did not return within 5s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// enqueue enqueues or fails the test.
func enqueue(t *testing.T, d *Dispatcher, app string, ev Event, id string) {
	t.Helper()
	if err := d.Enqueue(t.Context(), app, ev, id); err != nil {
		t.Fatalf("Enqueue %s %s: %v", ev.Name, ev.Channel, err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// queueEmpty tells whether the work queue holds no job (all acked).
func queueEmpty(t *testing.T, js jetstream.JetStream) bool {
	t.Helper()
	s, err := js.Stream(t.Context(), StreamName)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	info, err := s.Info(t.Context())
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	return info.State.Msgs == 0
}

// names lists the events' names.
func names(evs []Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Name
	}
	return out
}

// readSink waits (up to 10 s) for n messages in a NATS sink's stream and
// returns them in stream order; more than n fails t.
func readSink(t *testing.T, js jetstream.JetStream, stream string, n int) []*jetstream.RawStreamMsg {
	t.Helper()
	s, err := js.Stream(t.Context(), stream)
	if err != nil {
		t.Fatalf("sink stream %s: %v", stream, err)
	}
	var got uint64
	waitFor(t, 10*time.Second, fmt.Sprintf("%d messages in %s", n, stream), func() bool {
		info, err := s.Info(t.Context())
		if err != nil {
			t.Fatalf("sink stream %s: %v", stream, err)
		}
		got = info.State.Msgs
		return got >= uint64(n)
	})
	if got != uint64(n) {
		t.Fatalf("sink stream %s holds %d messages, want %d", stream, got, n)
	}
	out := make([]*jetstream.RawStreamMsg, 0, n)
	for seq := uint64(1); len(out) < n; seq++ {
		m, err := s.GetMsg(t.Context(), seq)
		if err != nil {
			t.Fatalf("sink stream %s message %d: %v", stream, seq, err)
		}
		out = append(out, m)
	}
	return out
}

// mustJSON decodes raw into v or fails t.
func mustJSON(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}
