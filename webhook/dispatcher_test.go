package webhook

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/config"
)

const (
	testKey    = "278d425bdf160c739803"
	testSecret = "7ad3773142a6692b25b8"
)

func TestSignatureAndBodyShape(t *testing.T) {
	js := startNATS(t)()
	rcv := newReceiver(t, testKey, testSecret)
	app := config.App{Key: testKey, Secret: testSecret, WebhookURL: rcv.srv.URL, WebhookEvents: []string{ClientEvent, SubscriptionCount}}
	d := newDispatcher(t, js, testOptions(t, apps(app), nil))
	zero := 0
	before := time.Now().UnixMilli()
	enqueue(t, d, testKey, Event{Name: ClientEvent, Channel: "presence-room", Event: "client-typing",
		Data: `{"x":1}`, SocketID: "123.456", UserID: "u1"}, "")
	enqueue(t, d, testKey, Event{Name: SubscriptionCount, Channel: "room", SubscriptionCount: &zero}, "")
	run(t, d)

	waitFor(t, 5*time.Second, "one request with two events", func() bool { return len(rcv.received(t)) == 2 })
	after := time.Now().UnixMilli()
	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("requests: got %d, want 1", len(reqs))
	}
	q := reqs[0]
	if got := q.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", got)
	}
	if got := q.header.Get("X-Pusher-Key"); got != testKey {
		t.Errorf("X-Pusher-Key: got %q, want %q", got, testKey)
	}
	if sig := q.header.Get("X-Pusher-Signature"); len(sig) != 64 || sig != Sign(testSecret, q.raw) {
		t.Errorf("X-Pusher-Signature: got %q, want lower-case hex HMAC of the body", sig)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(q.raw, &top); err != nil {
		t.Fatal(err)
	}
	if len(top) != 2 || top["time_ms"] == nil || top["events"] == nil {
		t.Errorf("body keys: got %s, want exactly time_ms and events", q.raw)
	}
	if q.body.TimeMS < before || q.body.TimeMS > after {
		t.Errorf("time_ms %d not within [%d, %d]", q.body.TimeMS, before, after)
	}
	want := []string{
		`{"name":"client_event","channel":"presence-room","user_id":"u1","event":"client-typing","data":"{\"x\":1}","socket_id":"123.456","seq":1}`,
		`{"name":"subscription_count","channel":"room","subscription_count":0,"seq":2}`,
	}
	for i, raw := range q.body.Events {
		if string(raw) != want[i] {
			t.Errorf("event %d: got %s, want %s", i, raw, want[i])
		}
	}
	if _, bad := rcv.counts(); bad != 0 {
		t.Errorf("receiver rejected %d requests (bad key or signature)", bad)
	}
	if id := q.header.Get(HeaderDelivery); len(id) != 32 {
		t.Errorf("%s: got %q, want a 32-digit hex id", HeaderDelivery, id)
	}
	if ep := q.header.Get(HeaderEndpoint); ep != config.EndpointWebhookURL {
		t.Errorf("%s: got %q, want %q", HeaderEndpoint, ep, config.EndpointWebhookURL)
	}
}

func TestBatching(t *testing.T) {
	js := startNATS(t)()
	rcv := newReceiver(t, testKey, testSecret)
	app := config.App{Key: testKey, Secret: testSecret, WebhookURL: rcv.srv.URL}
	opts := testOptions(t, apps(app), nil)
	opts.BatchWindow = 300 * time.Millisecond
	d := newDispatcher(t, js, opts)
	for i := range 25 {
		enqueue(t, d, testKey, Event{Name: ClientEvent, Channel: "private-c", Event: "client-e", Data: fmt.Sprint(i), SocketID: "1.1"}, "")
	}
	run(t, d)
	waitFor(t, 5*time.Second, "25 events", func() bool { return len(rcv.received(t)) == 25 })
	waitFor(t, 2*time.Second, "queue empty", func() bool { return queueEmpty(t, js) })
	var sizes []int
	for _, q := range rcv.requests() {
		sizes = append(sizes, len(q.body.Events))
	}
	if !slices.Equal(sizes, []int{20, 5}) {
		t.Fatalf("request sizes: got %v, want [20 5]", sizes)
	}
	seen := map[string]bool{}
	for _, e := range rcv.received(t) {
		seen[e.Data] = true
	}
	if len(seen) != 25 {
		t.Errorf("distinct events: got %d, want 25", len(seen))
	}
	if s := d.Stats(); s.Sent != 25 || s.Requests != 2 {
		t.Errorf("stats: got %+v, want Sent 25, Requests 2", s)
	}
}

func TestDelayThenSend(t *testing.T) {
	js := startNATS(t)()
	rcv := newReceiver(t, testKey, testSecret)
	app := config.App{Key: testKey, Secret: testSecret, WebhookURL: rcv.srv.URL}
	st := newFakeState()
	opts := testOptions(t, apps(app), st)
	d := newDispatcher(t, js, opts)
	run(t, d)

	st.setOccupied(testKey, "presence-c", true)
	st.setPresent(testKey, "presence-c", "u1", true)
	enqueue(t, d, testKey, Event{Name: ChannelOccupied, Channel: "presence-c"}, "o1")
	enqueue(t, d, testKey, Event{Name: MemberAdded, Channel: "presence-c", UserID: "u1"}, "a1")
	waitFor(t, 5*time.Second, "occupied and added", func() bool { return len(rcv.received(t)) == 2 })

	st.setOccupied(testKey, "presence-c", false)
	st.setPresent(testKey, "presence-c", "u1", false)
	left := time.Now()
	enqueue(t, d, testKey, Event{Name: MemberRemoved, Channel: "presence-c", UserID: "u1"}, "r1")
	enqueue(t, d, testKey, Event{Name: ChannelVacated, Channel: "presence-c"}, "v1")
	waitFor(t, 5*time.Second, "removed and vacated", func() bool { return len(rcv.received(t)) == 4 })

	got := names(rcv.received(t))
	if !slices.Equal(got[2:], []string{MemberRemoved, ChannelVacated}) && !slices.Equal(got[2:], []string{ChannelVacated, MemberRemoved}) {
		t.Fatalf("events: got %v, want occupied/added then removed/vacated", got)
	}
	for _, q := range rcv.requests() {
		for _, e := range q.events(t) {
			if e.delayed() && q.at.Sub(left) < opts.Delay {
				t.Errorf("%s sent %v after the change, want at least %v", e.Name, q.at.Sub(left), opts.Delay)
			}
		}
	}
}

func TestDelayCancelledByReturn(t *testing.T) {
	js := startNATS(t)()
	rcv := newReceiver(t, testKey, testSecret)
	app := config.App{Key: testKey, Secret: testSecret, WebhookURL: rcv.srv.URL}
	st := newFakeState()
	d := newDispatcher(t, js, testOptions(t, apps(app), st))
	run(t, d)

	st.setOccupied(testKey, "c", true)
	enqueue(t, d, testKey, Event{Name: ChannelOccupied, Channel: "c"}, "o1")
	waitFor(t, 5*time.Second, "occupied", func() bool { return len(rcv.received(t)) == 1 })

	// A page reload: the last subscriber leaves and comes back within Delay.
	st.setOccupied(testKey, "c", false)
	enqueue(t, d, testKey, Event{Name: ChannelVacated, Channel: "c"}, "v1")
	st.setOccupied(testKey, "c", true)
	enqueue(t, d, testKey, Event{Name: ChannelOccupied, Channel: "c"}, "o2")

	waitFor(t, 5*time.Second, "vacated cancelled and occupied suppressed", func() bool {
		s := d.Stats()
		return s.Cancelled == 1 && s.Suppressed == 1 && queueEmpty(t, js)
	})
	if got := names(rcv.received(t)); !slices.Equal(got, []string{ChannelOccupied}) {
		t.Fatalf("events: got %v, want only the first channel_occupied", got)
	}
	if all, _ := rcv.counts(); all != 1 {
		t.Errorf("requests: got %d, want 1", all)
	}
}

func TestReportedStateSuppression(t *testing.T) {
	js := startNATS(t)()
	rcv := newReceiver(t, testKey, testSecret)
	app := config.App{Key: testKey, Secret: testSecret, WebhookURL: rcv.srv.URL}
	st := newFakeState()
	d := newDispatcher(t, js, testOptions(t, apps(app), st))
	run(t, d)

	st.setOccupied(testKey, "c", true)
	st.setPresent(testKey, "presence-p", "u", true)
	enqueue(t, d, testKey, Event{Name: ChannelOccupied, Channel: "c"}, "o1")
	enqueue(t, d, testKey, Event{Name: MemberAdded, Channel: "presence-p", UserID: "u"}, "a1")
	enqueue(t, d, testKey, Event{Name: MemberAdded, Channel: "presence-p", UserID: "u"}, "a2") // same state again
	waitFor(t, 5*time.Second, "occupied, added and one suppression", func() bool {
		return len(rcv.received(t)) == 2 && d.Stats().Suppressed == 1
	})

	// Flap within Delay: vacated, occupied, vacated; the channel ends empty.
	st.setOccupied(testKey, "c", false)
	enqueue(t, d, testKey, Event{Name: ChannelVacated, Channel: "c"}, "v1")
	enqueue(t, d, testKey, Event{Name: ChannelOccupied, Channel: "c"}, "o2")
	enqueue(t, d, testKey, Event{Name: ChannelVacated, Channel: "c"}, "v2")
	waitFor(t, 5*time.Second, "all jobs settled", func() bool { return queueEmpty(t, js) })

	got := names(rcv.received(t))
	want := []string{ChannelOccupied, MemberAdded, ChannelVacated}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("events: got %v, want %v (one vacated for the flap)", got, want)
	}
	if s := d.Stats(); s.Suppressed != 3 || s.Cancelled != 0 {
		t.Errorf("stats: got %+v, want Suppressed 3 (a2, o2, v2), Cancelled 0", s)
	}
}

func TestRetryThenDeliverOnce(t *testing.T) {
	js := startNATS(t)()
	rcv := newReceiver(t, testKey, testSecret)
	// First attempt: 500. Second: no answer within the client timeout. Then 200.
	rcv.status = func(n int) int {
		switch n {
		case 1:
			return http.StatusInternalServerError
		case 2:
			return hangUp
		}
		return http.StatusOK
	}
	app := config.App{Key: testKey, Secret: testSecret, WebhookURL: rcv.srv.URL}
	opts := testOptions(t, apps(app), nil)
	opts.Timeout = 300 * time.Millisecond
	d := newDispatcher(t, js, opts)
	enqueue(t, d, testKey, Event{Name: ChannelOccupied, Channel: "c"}, "o1")
	run(t, d)

	waitFor(t, 5*time.Second, "delivery after two failures", func() bool { return queueEmpty(t, js) && d.Stats().Sent == 1 })
	if got := names(rcv.received(t)); !slices.Equal(got, []string{ChannelOccupied}) {
		t.Fatalf("accepted events: got %v, want one channel_occupied", got)
	}
	if all, _ := rcv.counts(); all != 3 {
		t.Errorf("attempts: got %d, want 3", all)
	}
	if s := d.Stats(); s.Failures != 2 || s.Retries != 2 || s.Requests != 3 || s.Dropped != 0 {
		t.Errorf("stats: got %+v, want Failures 2, Retries 2, Requests 3, Dropped 0", s)
	}
}

func TestRetryWindowExceededGoesToDeadLetters(t *testing.T) {
	js := startNATS(t)()
	rcv := newReceiver(t, testKey, testSecret)
	failing := true // guarded by rcv.mu
	rcv.status = func(int) int {
		if failing {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}
	app := config.App{Key: testKey, Secret: testSecret, WebhookURL: rcv.srv.URL}
	app.WebhookRetryFor = 700 * time.Millisecond // the app's own window, not the Options'
	d := newDispatcher(t, js, testOptions(t, apps(app), nil))
	run(t, d)

	enqueue(t, d, testKey, Event{Name: ChannelOccupied, Channel: "c"}, "o1")
	waitFor(t, 5*time.Second, "the batch in the dead letters", func() bool { return d.Stats().Dead == 1 && queueEmpty(t, js) })
	if got := rcv.received(t); len(got) != 0 {
		t.Fatalf("accepted events: got %v, want none", names(got))
	}
	if all, _ := rcv.counts(); all < 3 {
		t.Errorf("attempts: got %d, want several within the retry window", all)
	}
	if s := d.Stats(); s.Retries == 0 || s.Failures != s.Retries+1 || s.DeadEvents != 1 || s.Dropped != 0 {
		t.Errorf("stats: got %+v, want Failures = Retries + 1 (the last failure buries), 1 dead event, none dropped", s)
	}
	dead, more, err := d.Dead().Failed(t.Context(), testKey, time.Time{}, 10)
	if err != nil || more || len(dead) != 1 {
		t.Fatalf("Failed: got %+v more=%v err=%v, want one dead letter", dead, more, err)
	}
	dl := dead[0]
	if dl.Endpoint != config.EndpointWebhookURL || dl.FirstSeq != 1 || dl.LastSeq != 1 || dl.Events != 1 ||
		!slices.Equal(dl.Channels, []string{"c"}) || dl.Attempts < 3 || !strings.Contains(dl.Error, "503") {
		t.Errorf("dead letter: got %+v", dl)
	}
	if n, err := d.Dead().Count(t.Context()); err != nil || n != 1 {
		t.Errorf("DeadLetters: got %d, %v, want 1", n, err)
	}

	// The buried occupied was never reported, so the next one is not
	// suppressed against it.
	rcv.mu.Lock()
	failing = false
	rcv.mu.Unlock()
	enqueue(t, d, testKey, Event{Name: ChannelOccupied, Channel: "c"}, "o2")
	waitFor(t, 5*time.Second, "the next occupied", func() bool { return len(rcv.received(t)) == 1 })
	if got := rcv.requests()[0].events(t)[0]; got.Name != ChannelOccupied {
		t.Errorf("after the dead letter: got %v, want channel_occupied", got)
	}
}

func TestTwoNodesDeliverOnce(t *testing.T) {
	connect := startNATS(t)
	js1, js2 := connect(), connect()
	rcv := newReceiver(t, testKey, testSecret)
	app := config.App{Key: testKey, Secret: testSecret, WebhookURL: rcv.srv.URL}
	d1 := newDispatcher(t, js1, testOptions(t, apps(app), nil))
	d2 := newDispatcher(t, js2, testOptions(t, apps(app), nil))
	for i := range 10 {
		id := fmt.Sprintf("change-%d", i)
		ev := Event{Name: ClientEvent, Channel: "private-c", Event: "client-e", Data: fmt.Sprint(i), SocketID: "1.1"}
		enqueue(t, d1, testKey, ev, id)
		enqueue(t, d2, testKey, ev, id)
	}
	s, err := js1.Stream(t.Context(), StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 10 {
		t.Fatalf("stored jobs: got %d, want 10 (ids de-duplicate)", info.State.Msgs)
	}
	run(t, d1)
	run(t, d2)
	waitFor(t, 5*time.Second, "all jobs sent", func() bool {
		return queueEmpty(t, js1) && d1.Stats().Sent+d2.Stats().Sent == 10
	})
	count := map[string]int{}
	for _, e := range rcv.received(t) {
		count[e.Data]++
	}
	for i := range 10 {
		if n := count[fmt.Sprint(i)]; n != 1 {
			t.Errorf("event %d received %d times, want 1", i, n)
		}
	}
	if len(count) != 10 {
		t.Errorf("distinct events: got %d, want 10", len(count))
	}
}

func TestWebmanNamesAndURLs(t *testing.T) {
	js := startNATS(t)()
	chRcv := newReceiver(t, testKey, testSecret)
	userRcv := newReceiver(t, testKey, testSecret)
	fbRcv := newReceiver(t, "fbkey", "fbsecret")
	app := config.App{Key: testKey, Secret: testSecret, WebhookNames: "webman",
		ChannelHookURL: chRcv.srv.URL, UserHookURL: userRcv.srv.URL}
	fallback := config.App{Key: "fbkey", Secret: "fbsecret", WebhookNames: "webman", WebhookURL: fbRcv.srv.URL}
	st := newFakeState()
	d := newDispatcher(t, js, testOptions(t, apps(app, fallback), st))
	for _, k := range []string{testKey, "fbkey"} {
		enqueue(t, d, k, Event{Name: ChannelOccupied, Channel: "presence-r"}, "")
		enqueue(t, d, k, Event{Name: MemberAdded, Channel: "presence-r", UserID: "42"}, "")
		enqueue(t, d, k, Event{Name: ClientEvent, Channel: "presence-r", Event: "client-x", Data: "1", SocketID: "1.1"}, "")
		enqueue(t, d, k, Event{Name: CacheMiss, Channel: "cache-x"}, "")
		enqueue(t, d, k, Event{Name: MemberRemoved, Channel: "presence-r", UserID: "42"}, "")
		enqueue(t, d, k, Event{Name: ChannelVacated, Channel: "presence-r"}, "")
	}
	run(t, d)
	waitFor(t, 5*time.Second, "all jobs settled", func() bool { return queueEmpty(t, js) })

	// raws are the event objects without their seq, sorted; the seqs of
	// each receiver must be 1, 2, … in the order they arrived.
	raws := func(r *receiver) []string {
		var out []string
		var seqs []uint64
		for _, q := range r.requests() {
			for _, e := range q.body.Events {
				var obj map[string]any
				if err := json.Unmarshal(e, &obj); err != nil {
					t.Fatal(err)
				}
				seqs = append(seqs, uint64(obj["seq"].(float64)))
				i := strings.LastIndex(string(e), `,"seq":`)
				out = append(out, string(e[:i])+"}")
			}
		}
		slices.Sort(seqs)
		for i, n := range seqs {
			if n != uint64(i+1) {
				t.Errorf("seqs %v, want 1 to %d", seqs, len(seqs))
				break
			}
		}
		slices.Sort(out)
		return out
	}
	chWant := []string{`{"channel":"presence-r","name":"channel_added"}`, `{"channel":"presence-r","name":"channel_removed"}`}
	userWant := []string{`{"channel":"presence-r","user_id":"42","name":"user_added"}`, `{"channel":"presence-r","user_id":"42","name":"user_removed"}`}
	if got := raws(chRcv); !slices.Equal(got, chWant) {
		t.Errorf("channel_hook got %v, want %v", got, chWant)
	}
	if got := raws(userRcv); !slices.Equal(got, userWant) {
		t.Errorf("user_hook got %v, want %v", got, userWant)
	}
	fbWant := append(slices.Clone(chWant), userWant...)
	slices.Sort(fbWant)
	if got := raws(fbRcv); !slices.Equal(got, fbWant) {
		t.Errorf("fallback webhook_url got %v, want %v", got, fbWant)
	}
	for _, r := range []*receiver{chRcv, userRcv, fbRcv} {
		if _, bad := r.counts(); bad != 0 {
			t.Errorf("%d requests with a bad key or signature", bad)
		}
	}
}

func TestEventFilter(t *testing.T) {
	js := startNATS(t)()
	rcv := newReceiver(t, testKey, testSecret)
	app := config.App{Key: testKey, Secret: testSecret, WebhookURL: rcv.srv.URL,
		WebhookEvents: []string{ChannelOccupied, CacheMiss}}
	d := newDispatcher(t, js, testOptions(t, apps(app), newFakeState()))
	enqueue(t, d, testKey, Event{Name: ClientEvent, Channel: "private-c", Event: "client-x", Data: "1", SocketID: "1.1"}, "")
	enqueue(t, d, testKey, Event{Name: ChannelOccupied, Channel: "c"}, "")
	enqueue(t, d, testKey, Event{Name: MemberAdded, Channel: "presence-c", UserID: "u"}, "")
	enqueue(t, d, testKey, Event{Name: CacheMiss, Channel: "cache-c"}, "")
	enqueue(t, d, testKey, Event{Name: ChannelVacated, Channel: "c"}, "")
	enqueue(t, d, "unknown-app", Event{Name: ChannelOccupied, Channel: "c"}, "")
	run(t, d)
	waitFor(t, 5*time.Second, "all jobs settled", func() bool { return queueEmpty(t, js) })
	got := names(rcv.received(t))
	slices.Sort(got)
	if want := []string{CacheMiss, ChannelOccupied}; !slices.Equal(got, want) {
		t.Fatalf("events: got %v, want %v", got, want)
	}

	// The filtered vacated still counts as a change: the channel's next
	// occupied is reported, not suppressed.
	enqueue(t, d, testKey, Event{Name: ChannelOccupied, Channel: "c"}, "")
	waitFor(t, 5*time.Second, "the second occupied", func() bool { return len(rcv.received(t)) == 3 })
	if s := d.Stats(); s.Suppressed != 0 {
		t.Errorf("stats: got %+v, want nothing suppressed", s)
	}
}

func TestRestartKeepsPendingJobs(t *testing.T) {
	connect := startNATS(t)
	js := connect()
	rcv := newReceiver(t, testKey, testSecret)
	app := config.App{Key: testKey, Secret: testSecret, WebhookURL: rcv.srv.URL}
	st := newFakeState()

	// Node 1 takes jobs into a long batch window, then stops before sending.
	opts := testOptions(t, apps(app), st)
	opts.BatchWindow = time.Minute
	d1 := newDispatcher(t, js, opts)
	stop1 := run(t, d1)
	for i := range 3 {
		enqueue(t, d1, testKey, Event{Name: ClientEvent, Channel: "private-c", Event: "client-e", Data: fmt.Sprint(i), SocketID: "1.1"}, "")
	}
	waitFor(t, 5*time.Second, "node 1 holding the jobs", func() bool {
		c, err := js.Consumer(t.Context(), StreamName, ConsumerName)
		if err != nil {
			return false
		}
		info, err := c.Info(t.Context())
		return err == nil && info.NumAckPending == 3
	})
	stop1()

	// Jobs enqueued while no node runs, one of them delayed.
	for i := 3; i < 5; i++ {
		enqueue(t, d1, testKey, Event{Name: ClientEvent, Channel: "private-c", Event: "client-e", Data: fmt.Sprint(i), SocketID: "1.1"}, "")
	}
	enqueue(t, d1, testKey, Event{Name: ChannelVacated, Channel: "gone"}, "v1")
	if len(rcv.requests()) != 0 {
		t.Fatal("node 1 sent before it was stopped")
	}

	d2 := newDispatcher(t, connect(), testOptions(t, apps(app), st))
	run(t, d2)
	waitFor(t, 5*time.Second, "all jobs delivered by node 2", func() bool { return queueEmpty(t, js) && d2.Stats().Sent == 6 })
	count := map[string]int{}
	for _, e := range rcv.received(t) {
		count[e.Name+"/"+e.Data]++
	}
	for i := range 5 {
		if n := count[ClientEvent+"/"+fmt.Sprint(i)]; n != 1 {
			t.Errorf("client event %d received %d times, want 1", i, n)
		}
	}
	if n := count[ChannelVacated+"/"]; n != 1 {
		t.Errorf("channel_vacated received %d times, want 1", n)
	}
}
