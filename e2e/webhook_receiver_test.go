package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// startPushdWith starts a server whose whole app section is appsYAML (the
// harness's startPushd always uses testApps, which has no webhook URLs).
func startPushdWith(t *testing.T, appsYAML string, args ...string) *server {
	t.Helper()
	dir := t.TempDir()
	s := &server{
		WSAddr:  "127.0.0.1:" + strconv.Itoa(freePort(t)),
		APIAddr: "127.0.0.1:" + strconv.Itoa(freePort(t)),
		DataDir: filepath.Join(dir, "data"),
		log:     &syncBuffer{},
	}
	cfgPath := filepath.Join(dir, "pushd.yaml")
	s.ConfigPath = cfgPath
	if err := os.WriteFile(cfgPath, []byte(appsYAML+"\npong_timeout: 2s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.start(t, append([]string{"--config", cfgPath}, args...))
	return s
}

// hookEvent is one entry of a webhook body's events array, in either
// naming scheme. Fields holds the entry's keys, to check the exact shape.
type hookEvent struct {
	Name              string `json:"name"`
	Channel           string `json:"channel"`
	UserID            string `json:"user_id"`
	Event             string `json:"event"`
	Data              string `json:"data"`
	SocketID          string `json:"socket_id"`
	SubscriptionCount *int   `json:"subscription_count"`
	Seq               uint64 `json:"seq"`
	Fields            []string
	Path              string    // receiver path the request went to
	At                time.Time // when the receiver got the request
}

func (e hookEvent) String() string {
	s := e.Path + " " + e.Name + " " + e.Channel
	if e.UserID != "" {
		s += " user=" + e.UserID
	}
	if e.Event != "" {
		s += " event=" + e.Event
	}
	return s
}

// hookRequest is one request the receiver got.
type hookRequest struct {
	Path     string
	At       time.Time
	Key      string
	Delivery string // X-Pushd-Delivery
	Endpoint string // X-Pushd-Endpoint
	Header   http.Header
	Signed   bool // X-Pusher-Signature is the HMAC of the body with Key's secret
	TimeMS   int64
	Events   []hookEvent
	Status   int // what the receiver answered
	RawBody  string
}

// hookReceiver is a webhook endpoint on 127.0.0.1 that checks requests as a
// Pusher SDK does (X-Pusher-Key names a known app, X-Pusher-Signature is the
// hex HMAC-SHA256 of the raw body with that app's secret; 401 otherwise) and
// records everything. fail, when set, decides whether to answer 500.
type hookReceiver struct {
	t       *testing.T
	srv     *httptest.Server
	secrets map[string]string // app key -> secret

	mu      sync.Mutex
	reqs    []hookRequest
	changed chan struct{} // closed and replaced on every request
	fail    func(path string, evs []hookEvent) bool
	// hold, when set, is called with each well-signed request before it
	// is answered (outside the lock): it may block.
	hold func(rec hookRequest)
}

func newHookReceiver(t *testing.T, secrets map[string]string) *hookReceiver {
	t.Helper()
	r := &hookReceiver{t: t, secrets: secrets, changed: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve)) // listens on 127.0.0.1
	t.Cleanup(r.srv.Close)
	return r
}

// URL is the receiver's address with path.
func (r *hookReceiver) URL(path string) string { return r.srv.URL + path }

func (r *hookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	raw, _ := io.ReadAll(req.Body)
	rec := hookRequest{Path: req.URL.Path, At: time.Now(), Key: req.Header.Get("X-Pusher-Key"), RawBody: string(raw),
		Delivery: req.Header.Get("X-Pushd-Delivery"), Endpoint: req.Header.Get("X-Pushd-Endpoint"), Header: req.Header.Clone()}
	if secret, ok := r.secrets[rec.Key]; ok {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(raw)
		rec.Signed = hmac.Equal([]byte(hex.EncodeToString(m.Sum(nil))), []byte(req.Header.Get("X-Pusher-Signature")))
	}
	var body struct {
		TimeMS int64             `json:"time_ms"`
		Events []json.RawMessage `json:"events"`
	}
	ok := req.Method == http.MethodPost && json.Unmarshal(raw, &body) == nil
	for _, e := range body.Events {
		var ev hookEvent
		var fields map[string]json.RawMessage
		if json.Unmarshal(e, &ev) != nil || json.Unmarshal(e, &fields) != nil {
			ok = false
			continue
		}
		for k := range fields {
			ev.Fields = append(ev.Fields, k)
		}
		ev.Path, ev.At = rec.Path, rec.At
		rec.Events = append(rec.Events, ev)
	}
	rec.TimeMS = body.TimeMS
	switch {
	case !rec.Signed:
		rec.Status = http.StatusUnauthorized
	case !ok:
		rec.Status = http.StatusBadRequest
	default:
		rec.Status = http.StatusOK
		r.mu.Lock()
		fail := r.fail
		r.mu.Unlock()
		if fail != nil && fail(rec.Path, rec.Events) {
			rec.Status = http.StatusInternalServerError
		}
	}
	r.mu.Lock()
	hold := r.hold
	r.mu.Unlock()
	if hold != nil && rec.Signed {
		hold(rec)
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, rec)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
	w.WriteHeader(rec.Status)
}

// requests returns a copy of every request so far.
func (r *hookReceiver) requests() []hookRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookRequest(nil), r.reqs...)
}

// accepted returns the events of the requests answered 2xx, in order.
func (r *hookReceiver) accepted() []hookEvent {
	var out []hookEvent
	for _, q := range r.requests() {
		if q.Status == http.StatusOK {
			out = append(out, q.Events...)
		}
	}
	return out
}

// matching returns the accepted events for which pred holds.
func (r *hookReceiver) matching(pred func(hookEvent) bool) []hookEvent {
	var out []hookEvent
	for _, e := range r.accepted() {
		if pred(e) {
			out = append(out, e)
		}
	}
	return out
}

// waitCount waits up to within for at least n accepted events matching
// pred and returns them.
func (r *hookReceiver) waitCount(what string, n int, within time.Duration, pred func(hookEvent) bool) []hookEvent {
	r.t.Helper()
	deadline := time.After(within)
	for {
		r.mu.Lock()
		ch := r.changed
		r.mu.Unlock()
		if got := r.matching(pred); len(got) >= n {
			return got
		}
		select {
		case <-ch:
		case <-deadline:
			r.t.Fatalf("webhook: timed out after %s waiting for %d × %s; accepted so far:\n%s", within, n, what, r.dump())
		}
	}
}

// wait waits for one accepted event matching pred.
func (r *hookReceiver) wait(what string, within time.Duration, pred func(hookEvent) bool) hookEvent {
	r.t.Helper()
	return r.waitCount(what, 1, within, pred)[0]
}

// none checks that no accepted event matching pred arrives within d
// (counting those already there).
func (r *hookReceiver) none(what string, d time.Duration, pred func(hookEvent) bool) {
	r.t.Helper()
	deadline := time.After(d)
	for {
		r.mu.Lock()
		ch := r.changed
		r.mu.Unlock()
		if got := r.matching(pred); len(got) > 0 {
			r.t.Fatalf("webhook: unexpected %s: %v; accepted so far:\n%s", what, got, r.dump())
		}
		select {
		case <-ch:
		case <-deadline:
			return
		}
	}
}

// checkSigned fails t if any request was not signed for a known app or
// carried an unreadable body.
func (r *hookReceiver) checkSigned() {
	r.t.Helper()
	for _, q := range r.requests() {
		if !q.Signed {
			r.t.Errorf("webhook request to %s with key %q not signed correctly: %s", q.Path, q.Key, q.RawBody)
		}
		if q.Status == http.StatusBadRequest {
			r.t.Errorf("webhook request to %s has an unreadable body: %s", q.Path, q.RawBody)
		}
		if d := time.Since(time.UnixMilli(q.TimeMS)); q.TimeMS == 0 || d < -5*time.Second || d > 5*time.Minute {
			r.t.Errorf("webhook request to %s has time_ms %d, not a recent unix time in ms", q.Path, q.TimeMS)
		}
	}
}

// dump lists every request, for failure messages.
func (r *hookReceiver) dump() string {
	var b strings.Builder
	for _, q := range r.requests() {
		fmt.Fprintf(&b, "  %s %s %d key=%s signed=%v %s\n", q.At.Format("15:04:05.000"), q.Path, q.Status, q.Key, q.Signed, q.RawBody)
	}
	return b.String()
}

// Event predicates.

func hookIs(name, ch string) func(hookEvent) bool {
	return func(e hookEvent) bool { return e.Name == name && e.Channel == ch }
}

func hookUser(name, ch, user string) func(hookEvent) bool {
	return func(e hookEvent) bool { return e.Name == name && e.Channel == ch && e.UserID == user }
}

func hookOn(ch string) func(hookEvent) bool {
	return func(e hookEvent) bool { return e.Channel == ch }
}

// exactlyOnce checks that exactly one accepted event matches pred.
func (r *hookReceiver) exactlyOnce(what string, pred func(hookEvent) bool) hookEvent {
	r.t.Helper()
	got := r.matching(pred)
	if len(got) != 1 {
		r.t.Fatalf("webhook: %d × %s, want exactly 1; accepted so far:\n%s", len(got), what, r.dump())
	}
	return got[0]
}

// sameFields checks an event object's keys.
func sameFields(t *testing.T, e hookEvent, want ...string) {
	t.Helper()
	got := strings.Join(sortedCopy(e.Fields), ",")
	if w := strings.Join(sortedCopy(want), ","); got != w {
		t.Fatalf("webhook event %v has fields %s, want %s", e, got, w)
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && c[j] < c[j-1]; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
	return c
}

// subscribePublic subscribes c to a public channel and waits for success.
func subscribePublic(t *testing.T, c *rawClient, ch string) {
	t.Helper()
	c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": ch}})
	f := c.expect("pusher_internal:subscription_succeeded")
	if f.Channel != ch {
		t.Fatalf("subscription_succeeded for %q, want %q", f.Channel, ch)
	}
}

// unsubscribe sends pusher:unsubscribe (the server does not answer).
func unsubscribe(c *rawClient, ch string) {
	c.sendJSON(map[string]any{"event": "pusher:unsubscribe", "data": map[string]string{"channel": ch}})
}

// channelInfo reads GET /apps/{id}/channels/{ch} with info.
func channelInfo(t *testing.T, s *server, key, secret, appID, ch, info string) map[string]any {
	t.Helper()
	params := map[string][]string{}
	if info != "" {
		params["info"] = []string{info}
	}
	status, body := apiCall(t, s, key, secret, http.MethodGet, "/apps/"+appID+"/channels/"+ch, params, "")
	if status != http.StatusOK {
		t.Fatalf("GET channel %s on %s: %d %s", ch, s.APIAddr, status, body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("channel info %s: %v", body, err)
	}
	return m
}

// observe lets d pass while requests keep being recorded: the window in
// which a late duplicate would show up.
func (r *hookReceiver) observe(d time.Duration) {
	r.none("nothing", d, func(hookEvent) bool { return false })
}
