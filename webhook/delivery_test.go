package webhook

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pushd/pushd/config"
)

// TestDeliveryIDStableAcrossRetries: a batch, once formed, is retried as it
// was: the same events with the same seqs under the same X-Pushd-Delivery.
func TestDeliveryIDStableAcrossRetries(t *testing.T) {
	js := startNATS(t)()
	rcv := newReceiver(t, testKey, testSecret)
	rcv.status = func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
	app := config.App{Key: testKey, Secret: testSecret, WebhookURL: rcv.srv.URL}
	d := newDispatcher(t, js, testOptions(t, apps(app), nil))
	for i := range 5 {
		enqueue(t, d, testKey, Event{Name: ClientEvent, Channel: "private-c", Event: "client-e", Data: fmt.Sprint(i), SocketID: "1.1"}, "")
	}
	run(t, d)
	waitFor(t, 10*time.Second, "the batch delivered on the third attempt", func() bool { return d.Stats().Sent == 5 && queueEmpty(t, js) })

	tries := rcv.attempts()
	if len(tries) != 3 {
		t.Fatalf("attempts: got %d, want 3", len(tries))
	}
	id := tries[0].header.Get(HeaderDelivery)
	for i, q := range tries {
		if got := q.header.Get(HeaderDelivery); got != id || id == "" {
			t.Errorf("attempt %d: %s %q, want %q as on the first", i+1, HeaderDelivery, got, id)
		}
		if len(q.body.Events) != 5 {
			t.Fatalf("attempt %d: %d events, want the batch of 5", i+1, len(q.body.Events))
		}
		for j, raw := range q.body.Events {
			if !bytes.Equal(raw, tries[0].body.Events[j]) {
				t.Errorf("attempt %d event %d: got %s, want %s as on the first", i+1, j, raw, tries[0].body.Events[j])
			}
		}
	}
	if got := tries[0].seqs(t); !slices.Equal(got, []uint64{1, 2, 3, 4, 5}) {
		t.Errorf("seqs: got %v, want 1 to 5", got)
	}
	if s := d.Stats(); s.Batches != 1 || s.Failures != 2 || s.Retries != 10 {
		t.Errorf("stats: got %+v, want 1 batch, 2 failures, 10 events retried", s)
	}
}

// TestTwoNodesSeqsWithoutHoles: two nodes forming batches for one endpoint
// at once give out each seq once, with no hole, and each delivery id names
// one contiguous range.
func TestTwoNodesSeqsWithoutHoles(t *testing.T) {
	connect := startNATS(t)
	rcv := newReceiver(t, testKey, testSecret)
	app := config.App{Key: testKey, Secret: testSecret, WebhookURL: rcv.srv.URL}
	app.WebhookBatchMax = 3
	d1 := newDispatcher(t, connect(), testOptions(t, apps(app), nil))
	d2 := newDispatcher(t, connect(), testOptions(t, apps(app), nil))
	run(t, d1)
	run(t, d2)
	const n = 90
	for i := range n {
		d := d1
		if i%2 == 1 {
			d = d2
		}
		enqueue(t, d, testKey, Event{Name: ClientEvent, Channel: "private-c", Event: "client-e", Data: fmt.Sprint(i), SocketID: "1.1"}, "")
	}
	waitFor(t, 20*time.Second, "all events", func() bool { return len(rcv.received(t)) >= n })
	if s1, s2 := d1.Stats(), d2.Stats(); s1.Batches == 0 || s2.Batches == 0 {
		t.Logf("batches formed: node 1 %d, node 2 %d (the consumer gave one node everything)", s1.Batches, s2.Batches)
	}
	var all []uint64
	ids := map[string]bool{}
	for _, q := range rcv.requests() {
		id := q.header.Get(HeaderDelivery)
		if ids[id] {
			t.Errorf("delivery id %s on two requests", id)
		}
		ids[id] = true
		seqs := q.seqs(t)
		for i := 1; i < len(seqs); i++ {
			if seqs[i] != seqs[i-1]+1 {
				t.Errorf("request %s: seqs %v not contiguous", id, seqs)
			}
		}
		all = append(all, seqs...)
	}
	slices.Sort(all)
	for i, s := range all {
		if s != uint64(i+1) {
			t.Fatalf("seqs given out: %v, want 1 to %d once each", all, n)
		}
	}
}

// TestEndpointsFiltersHeadersAndSink: each endpoint of an app gets exactly
// the events its filter takes, in its naming, with its headers and its own
// seqs; the NATS sink gets every event in order, one message each.
func TestEndpointsFiltersHeadersAndSink(t *testing.T) {
	js := startNATS(t)()
	members := newReceiver(t, testKey, testSecret)
	channels := newReceiver(t, testKey, testSecret)
	misses := newReceiver(t, testKey, testSecret)
	app := config.App{Key: testKey, Secret: testSecret,
		WebhookURL: misses.srv.URL, WebhookEvents: []string{CacheMiss}, // the shorthand endpoint
		Webhooks: []config.WebhookEndpoint{
			{Name: "members", URL: members.srv.URL, Events: []string{MemberAdded, "user_removed"}, Names: "webman",
				Headers: map[string]string{"X-Token": "members-token"}},
			{Name: "channels", URL: channels.srv.URL, Events: []string{"channel_added", ChannelVacated, ClientEvent},
				Headers: map[string]string{"Authorization": "Bearer channels"}},
			{Name: "sink", NATSSubject: "hooks.test", NATSStream: "HOOKS_TEST", Headers: map[string]string{"Origin-Cluster": "eu"}},
		}}
	if err := (&config.Config{Apps: []config.App{app}}).Validate(); err != nil {
		t.Fatalf("the test's app is not a valid configuration: %v", err)
	}
	st := newFakeState()
	d := newDispatcher(t, js, testOptions(t, apps(app), st))
	if err := d.EnsureSinks(t.Context(), []config.App{app}); err != nil {
		t.Fatal(err)
	}
	run(t, d)

	st.setOccupied(testKey, "presence-p", true)
	st.setPresent(testKey, "presence-p", "7", true)
	enqueue(t, d, testKey, Event{Name: ChannelOccupied, Channel: "presence-p"}, "o")
	enqueue(t, d, testKey, Event{Name: MemberAdded, Channel: "presence-p", UserID: "7"}, "a")
	enqueue(t, d, testKey, Event{Name: ClientEvent, Channel: "presence-p", Event: "client-x", Data: "{}", SocketID: "1.1", UserID: "7"}, "c")
	enqueue(t, d, testKey, Event{Name: CacheMiss, Channel: "cache-x"}, "m")
	waitFor(t, 5*time.Second, "the first events", func() bool {
		return len(members.received(t)) == 1 && len(channels.received(t)) == 2 && len(misses.received(t)) == 1
	})
	st.setPresent(testKey, "presence-p", "7", false)
	st.setOccupied(testKey, "presence-p", false)
	enqueue(t, d, testKey, Event{Name: MemberRemoved, Channel: "presence-p", UserID: "7"}, "r")
	enqueue(t, d, testKey, Event{Name: ChannelVacated, Channel: "presence-p"}, "v")
	waitFor(t, 5*time.Second, "every event settled", func() bool { return queueEmpty(t, js) && d.Stats().Sent == 12 })

	check := func(who string, r *receiver, header, value string, want ...string) {
		t.Helper()
		var got []string
		var seqs []uint64
		for _, q := range r.requests() {
			if h := q.header.Get(header); h != value {
				t.Errorf("%s: header %s %q, want %q", who, header, h, value)
			}
			for _, raw := range q.body.Events {
				got = append(got, string(raw))
			}
			seqs = append(seqs, q.seqs(t)...)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s got\n  %v\nwant\n  %v", who, got, want)
		}
	}
	check("members (webman names)", members, "X-Token", "members-token",
		`{"channel":"presence-p","user_id":"7","name":"user_added","seq":1}`,
		`{"channel":"presence-p","user_id":"7","name":"user_removed","seq":2}`)
	check("channels", channels, "Authorization", "Bearer channels",
		`{"name":"channel_occupied","channel":"presence-p","seq":1}`,
		`{"name":"client_event","channel":"presence-p","user_id":"7","event":"client-x","data":"{}","socket_id":"1.1","seq":2}`,
		`{"name":"channel_vacated","channel":"presence-p","seq":3}`)
	check("webhook_url (cache_miss only)", misses, HeaderEndpoint, config.EndpointWebhookURL,
		`{"name":"cache_miss","channel":"cache-x","seq":1}`)
	for _, r := range []*receiver{members, channels, misses} {
		if len(r.requests()) > 0 && r.requests()[0].header.Get(HeaderEndpoint) == "" {
			t.Errorf("no %s header", HeaderEndpoint)
		}
	}

	// The sink: every event, one message each, in seq order.
	sink := readSink(t, js, "HOOKS_TEST", 6)
	var got []string
	for i, m := range sink {
		if m.Header.Get(SinkHeaderSeq) != fmt.Sprint(i+1) || m.Header.Get(SinkHeaderApp) != testKey ||
			m.Header.Get(SinkHeaderEndpoint) != "sink" || len(m.Header.Get(SinkHeaderDelivery)) != 32 || m.Header.Get("Origin-Cluster") != "eu" {
			t.Errorf("sink message %d headers: %v", i+1, m.Header)
		}
		var ev Event
		mustJSON(t, m.Data, &ev)
		got = append(got, ev.Name)
	}
	before := func(a, b string) bool {
		return slices.Index(got, a) >= 0 && slices.Index(got, a) < slices.Index(got, b)
	}
	if len(got) != 6 || !before(ChannelOccupied, ChannelVacated) || !before(MemberAdded, MemberRemoved) || !before(ChannelOccupied, MemberRemoved) {
		t.Errorf("sink events in order: %v, want all six, each channel's and member's in order", got)
	}
}

// TestSinkOrderTwoNodes: two nodes publishing one sink's batches at once
// keep the subject in seq order, each seq once.
func TestSinkOrderTwoNodes(t *testing.T) {
	connect := startNATS(t)
	js := connect()
	app := config.App{Key: testKey, Secret: testSecret,
		Webhooks: []config.WebhookEndpoint{{Name: "sink", NATSSubject: "hooks.order", NATSStream: "HOOKS_ORDER"}}}
	app.WebhookBatchMax = 2
	d1 := newDispatcher(t, connect(), testOptions(t, apps(app), nil))
	d2 := newDispatcher(t, connect(), testOptions(t, apps(app), nil))
	if err := d1.EnsureSinks(t.Context(), []config.App{app}); err != nil {
		t.Fatal(err)
	}
	run(t, d1)
	run(t, d2)
	const n = 40
	var wg sync.WaitGroup
	for _, d := range []*Dispatcher{d1, d2} {
		wg.Go(func() {
			for i := range n / 2 {
				enqueue(t, d, testKey, Event{Name: ClientEvent, Channel: "private-c", Event: "client-e", Data: fmt.Sprint(i), SocketID: "1.1"}, "")
			}
		})
	}
	wg.Wait()
	msgs := readSink(t, js, "HOOKS_ORDER", n)
	for i, m := range msgs {
		if got := m.Header.Get(SinkHeaderSeq); got != fmt.Sprint(i+1) {
			t.Fatalf("sink message %d has seq %s, want %d (out of order or twice)", i+1, got, i+1)
		}
	}
}

// TestReplay: batches that failed for longer than the retry window are
// dead letters; Replay, once the receiver is back, sends each once, in seq
// order (so each channel's events in their order), with the delivery ids
// they had, and removes them; a second Replay has nothing to do.
func TestReplay(t *testing.T) {
	js := startNATS(t)()
	rcv := newReceiver(t, testKey, testSecret)
	rcv.status = func(int) int { return http.StatusInternalServerError }
	app := config.App{Key: testKey, Secret: testSecret, WebhookURL: rcv.srv.URL}
	app.WebhookRetryFor, app.WebhookBatchMax = 400*time.Millisecond, 2
	d := newDispatcher(t, js, testOptions(t, apps(app), nil))
	run(t, d)
	const perChannel = 5
	for i := range perChannel {
		for _, ch := range []string{"private-a", "private-b", "private-c"} {
			enqueue(t, d, testKey, Event{Name: ClientEvent, Channel: ch, Event: "client-e", Data: fmt.Sprint(i), SocketID: "1.1"}, "")
		}
	}
	waitFor(t, 10*time.Second, "every batch dead", func() bool {
		return d.Stats().DeadEvents == 3*perChannel && queueEmpty(t, js)
	})
	dead, _, err := d.Dead().Failed(t.Context(), testKey, time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	deadIDs := map[string]bool{}
	for _, dl := range dead {
		deadIDs[dl.Delivery] = true
	}
	// What the receiver saw failing is what is dead.
	for _, q := range rcv.attempts() {
		if id := q.header.Get(HeaderDelivery); !deadIDs[id] {
			t.Errorf("delivery %s was attempted but is not among the dead letters", id)
		}
	}

	// Still failing: the first batch fails, the rest wait behind it.
	res, err := d.Dead().Replay(t.Context(), testKey, time.Time{}, 100)
	if err != nil || res.Replayed != 0 || res.Failed != 1 || res.Kept != len(dead)-1 {
		t.Fatalf("replay to a failing receiver: got %+v, %v; want 1 failed, %d kept", res, err, len(dead)-1)
	}
	if left, _, _ := d.Dead().Failed(t.Context(), testKey, time.Time{}, 100); len(left) != len(dead) {
		t.Fatalf("after a failed replay %d dead letters, want all %d kept", len(left), len(dead))
	}

	rcv.setStatus(func(int) int { return http.StatusOK })
	res, err = d.Dead().Replay(t.Context(), testKey, time.Time{}, 100)
	if err != nil || res.Replayed != len(dead) || res.Failed != 0 || res.More {
		t.Fatalf("replay: got %+v, %v; want %d replayed", res, err, len(dead))
	}
	count := map[string]int{}
	var last uint64
	perCh := map[string][]string{}
	for _, q := range rcv.requests() {
		count[q.header.Get(HeaderDelivery)]++
		for i, seq := range q.seqs(t) {
			if seq <= last {
				t.Errorf("seq %d after %d: replay out of order", seq, last)
			}
			last = seq
			ev := q.events(t)[i]
			perCh[ev.Channel] = append(perCh[ev.Channel], ev.Data)
		}
	}
	for id := range deadIDs {
		if count[id] != 1 {
			t.Errorf("delivery %s replayed %d times, want once", id, count[id])
		}
	}
	if len(count) != len(deadIDs) {
		t.Errorf("replayed %d delivery ids, want the %d dead ones", len(count), len(deadIDs))
	}
	for ch, data := range perCh {
		if !slices.Equal(data, []string{"0", "1", "2", "3", "4"}) {
			t.Errorf("%s replayed as %v, want 0 to 4 in order", ch, data)
		}
	}
	if left, _, _ := d.Dead().Failed(t.Context(), testKey, time.Time{}, 100); len(left) != 0 {
		t.Errorf("after the replay %d dead letters remain", len(left))
	}
	if res, err := d.Dead().Replay(t.Context(), testKey, time.Time{}, 100); err != nil || res.Replayed != 0 {
		t.Errorf("second replay: got %+v, %v; want nothing to do", res, err)
	}
	if s := d.Stats(); s.Replayed != uint64(len(dead)) {
		t.Errorf("stats: Replayed %d, want %d", s.Replayed, len(dead))
	}
}
