package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Issue 19, webhook delivery: delivery ids, per-endpoint sequences, dead
// letters with `pushd webhooks failed|replay`, several endpoints and the
// NATS sink, all through real pushd processes.

// pushdCLI runs `pushd args...` (a command, not a server) and returns its
// output; a non-zero exit fails t unless wantErr.
func pushdCLI(t *testing.T, wantErr bool, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, pushdBin, args...).CombinedOutput()
	if (err != nil) != wantErr {
		t.Fatalf("pushd %s: err %v (want error: %v)\n%s", strings.Join(args, " "), err, wantErr, out)
	}
	return string(out)
}

// deadList is `pushd webhooks failed --json` for one app.
type deadList struct {
	Failed []struct {
		ID       uint64   `json:"id"`
		Endpoint string   `json:"endpoint"`
		Delivery string   `json:"delivery"`
		FirstSeq uint64   `json:"first_seq"`
		LastSeq  uint64   `json:"last_seq"`
		Events   int      `json:"events"`
		Channels []string `json:"channels"`
		Error    string   `json:"error"`
	} `json:"failed"`
	More bool `json:"more"`
}

// metric reads one unlabelled sample from /metrics.
func metric(t *testing.T, s *server, name string) float64 {
	t.Helper()
	resp, err := http.Get(s.APIURL() + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("metric %s not in /metrics", name)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatalf("metric %s: %v", name, err)
	}
	return v
}

// TestWebhookDeadLettersAndReplay: a receiver that answers 500 for longer
// than the app's retry window gets nothing more; the batches are dead
// letters that `pushd webhooks failed` lists and a metric counts; once the
// receiver is back, `pushd webhooks replay` delivers each batch exactly
// once (by delivery id), each channel's events in their order.
func TestWebhookDeadLettersAndReplay(t *testing.T) {
	r := newHookReceiver(t, map[string]string{hookKey: hookSecret})
	var down sync.Mutex // held while the receiver is "down"
	failing := true
	r.fail = func(string, []hookEvent) bool {
		down.Lock()
		defer down.Unlock()
		return failing
	}
	s := startPushdWith(t, fmt.Sprintf(`
apps:
  - id: "1"
    key: %s
    secret: %s
    webhook_url: %s
    webhook_retry_for: 2s
    webhook_retry_base: 100ms
    webhook_retry_max: 400ms
    webhook_batch_max: 3
`, hookKey, hookSecret, r.URL("/hook")))
	cli := []string{"--config", s.ConfigPath, "--api-addr", s.APIAddr, "--data-dir", s.DataDir}

	c, cid := connect(t, s, hookKey)
	subscribePublic(t, c, "dl-a")
	subscribePublic(t, c, "dl-b")
	joinPresence(t, c, cid, hookKey, hookSecret, "presence-dl", "u1", "")
	const clientEvents = 6
	for i := 1; i <= clientEvents; i++ {
		c.send(fmt.Sprintf(`{"event":"client-n","channel":"presence-dl","data":"%d"}`, i))
	}
	const events = 4 + clientEvents // 3 occupied, 1 member_added, the client events

	var dead deadList
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := pushdCLI(t, false, append([]string{"webhooks", "failed", "--json"}, cli...)...)
		dead = deadList{}
		if err := json.Unmarshal([]byte(out), &dead); err != nil {
			t.Fatalf("failed --json: %v\n%s", err, out)
		}
		n := 0
		for _, f := range dead.Failed {
			n += f.Events
		}
		if n == events {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dead letters hold %d events, want %d:\n%s\nreceiver:\n%s", n, events, out, r.dump())
		}
		time.Sleep(300 * time.Millisecond) // polling a command: bounded by deadline
	}
	if got := r.accepted(); len(got) != 0 {
		t.Fatalf("accepted while failing: %v", got)
	}
	deadIDs := map[string]bool{}
	for _, f := range dead.Failed {
		deadIDs[f.Delivery] = true
		if f.Endpoint != "webhook_url" || !strings.Contains(f.Error, "500") || f.LastSeq-f.FirstSeq+1 != uint64(f.Events) {
			t.Errorf("dead letter %+v", f)
		}
	}
	if got := metric(t, s, "pushd_webhook_dead_letters_total"); got != float64(len(dead.Failed)) {
		t.Errorf("pushd_webhook_dead_letters_total %v, want %d", got, len(dead.Failed))
	}
	if got := metric(t, s, "pushd_webhook_dead_letters"); got != float64(len(dead.Failed)) {
		t.Errorf("pushd_webhook_dead_letters %v, want %d", got, len(dead.Failed))
	}
	table := pushdCLI(t, false, append([]string{"webhooks", "failed"}, cli...)...)
	for id := range deadIDs {
		if !strings.Contains(table, id) {
			t.Errorf("`pushd webhooks failed` does not list %s:\n%s", id, table)
		}
	}

	// The receiver recovers; a replay sends every dead batch once.
	down.Lock()
	failing = false
	down.Unlock()
	before := len(r.requests())
	out := pushdCLI(t, false, append([]string{"webhooks", "replay"}, cli...)...)
	if want := fmt.Sprintf("app %s: %d replayed, 0 failed again", hookKey, len(dead.Failed)); !strings.Contains(out, want) {
		t.Fatalf("replay said %q, want %q", out, want)
	}
	r.observe(time.Second)
	count := map[string]int{}
	var clientData []string
	lastSeq := map[string]uint64{}
	for _, q := range r.requests()[before:] {
		if q.Status != http.StatusOK {
			t.Fatalf("replayed request answered %d", q.Status)
		}
		count[q.Delivery]++
		for _, e := range q.Events {
			if e.Seq <= lastSeq[e.Channel] {
				t.Errorf("%s: seq %d after %d", e.Channel, e.Seq, lastSeq[e.Channel])
			}
			lastSeq[e.Channel] = e.Seq
			if e.Name == "client_event" {
				clientData = append(clientData, e.Data)
			}
		}
	}
	for id := range deadIDs {
		if count[id] != 1 {
			t.Errorf("delivery %s replayed %d times, want exactly once", id, count[id])
		}
	}
	if len(count) != len(deadIDs) {
		t.Errorf("replay sent %d delivery ids, want the %d dead ones: %v", len(count), len(deadIDs), count)
	}
	if !slices.Equal(clientData, []string{"1", "2", "3", "4", "5", "6"}) {
		t.Errorf("client events replayed as %v, want 1 to 6 in order", clientData)
	}
	if got := len(r.accepted()); got != events {
		t.Errorf("accepted %d events after the replay, want %d", got, events)
	}
	if out := pushdCLI(t, false, append([]string{"webhooks", "failed"}, cli...)...); !strings.Contains(out, "no failed webhooks") {
		t.Errorf("after the replay `failed` says:\n%s", out)
	}
	if out := pushdCLI(t, false, append([]string{"webhooks", "replay"}, cli...)...); !strings.Contains(out, "0 replayed") {
		t.Errorf("a second replay says %q, want nothing replayed", out)
	}
	// A wrong secret is refused by the server, and the command says so.
	bad := pushdCLI(t, true, "webhooks", "failed", "--app-key", hookKey, "--app-secret", "wrong", "--api-addr", s.APIAddr)
	if !strings.Contains(bad, "401") {
		t.Errorf("with a wrong secret: %s, want a 401", bad)
	}
}

// TestWebhookKillKeepsDeliveryID: a gateway is killed (SIGKILL) while its
// webhook request is at the receiver, which then answers 200 to the dead
// connection; the other gateway, sharing the job consumer, sends the batch
// again with the same delivery id and the same events.
func TestWebhookKillKeepsDeliveryID(t *testing.T) {
	t.Parallel() // mostly waits (timeouts, delays, a peer dying): runs beside the others
	nc := startNATSCluster(t, 1)
	r := newHookReceiver(t, map[string]string{hookKey: hookSecret})
	first := make(chan hookRequest, 1)
	release := make(chan struct{})
	var once sync.Once
	r.hold = func(rec hookRequest) {
		held := false
		once.Do(func() { held = true })
		if !held {
			return
		}
		first <- rec
		<-release // until the sender is dead
	}
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	cfg := fmt.Sprintf(`
nats_url: %s
apps:
  - id: "1"
    key: %s
    secret: %s
    webhook_url: %s
`, nc.URLs(), hookKey, hookSecret, r.URL("/hook"))
	a := startPushdWith(t, cfg)
	c, _ := connect(t, a, hookKey)
	subscribePublic(t, c, "kill-room")

	var got hookRequest
	select {
	case got = <-first:
	case <-time.After(15 * time.Second):
		t.Fatalf("no webhook request from gateway A:\n%s", r.dump())
	}
	b := startPushdWith(t, cfg) // joins the consumer only now: A holds the batch
	a.kill(t)
	close(release) // the 200 goes to a dead connection: A never acks
	if got.Delivery == "" || len(got.Events) != 1 || got.Events[0].Name != "channel_occupied" {
		t.Fatalf("first request: delivery %q events %v", got.Delivery, got.Events)
	}

	// B gets the batch once A's ack wait (batch window bound + request
	// timeout + 5 s = 20 s) has passed. A's request is recorded too, as
	// answered 200, once released.
	r.waitCount("the batch again, from gateway B", 2, 60*time.Second, hookIs("channel_occupied", "kill-room"))
	r.observe(time.Second)
	var reqs []hookRequest
	for _, q := range r.requests() {
		if len(q.Events) > 0 && q.Events[0].Name == "channel_occupied" && q.Events[0].Channel == "kill-room" {
			reqs = append(reqs, q)
		}
	}
	if len(reqs) != 2 {
		t.Fatalf("%d requests with the channel_occupied, want 2 (A's, answered to a dead connection, and B's):\n%s", len(reqs), r.dump())
	}
	for i, q := range reqs {
		if q.Delivery != got.Delivery || q.Status != http.StatusOK {
			t.Errorf("request %d: X-Pushd-Delivery %q (status %d), want %q as the first attempt", i+1, q.Delivery, q.Status, got.Delivery)
		}
		if len(q.Events) != 1 || q.Events[0].Seq != got.Events[0].Seq || q.Events[0].Seq == 0 {
			t.Errorf("request %d: events %v, want the one event with seq %d", i+1, q.Events, got.Events[0].Seq)
		}
	}
	if b.log.String() == "" || !strings.Contains(b.log.String(), "pushd ready") {
		t.Errorf("gateway B did not run:\n%s", b.log.String())
	}
}

// TestWebhookEndpointsAndNATSSink: two endpoints with different filters,
// headers and naming each receive exactly their events, and a NATS sink
// gets all of them, in order, one JetStream message each.
func TestWebhookEndpointsAndNATSSink(t *testing.T) {
	r := newHookReceiver(t, map[string]string{hookKey: hookSecret})
	natsAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	s := startPushdWith(t, fmt.Sprintf(`
apps:
  - id: "1"
    key: %s
    secret: %s
    webhook_delay: 300ms
    webhooks:
      - name: members
        url: %s
        events: [user_added, member_removed]
        names: webman
        headers: {X-Token: members}
      - name: channels
        url: %s
        events: [channel_occupied, channel_vacated, client_event]
        headers: {Authorization: Bearer channels}
      - name: sink
        nats_subject: e2e.hooks
        nats_stream: E2E_HOOKS
`, hookKey, hookSecret, r.URL("/members"), r.URL("/channels")), "--nats-listen", natsAddr)
	t.Cleanup(r.checkSigned)

	c, cid := connect(t, s, hookKey)
	joinPresence(t, c, cid, hookKey, hookSecret, "presence-ep", "9", "")
	c.send(`{"event":"client-x","channel":"presence-ep","data":"hi"}`)
	r.wait("client_event", 10*time.Second, hookIs("client_event", "presence-ep"))
	unsubscribe(c, "presence-ep")
	r.wait("channel_vacated", 10*time.Second, hookIs("channel_vacated", "presence-ep"))
	r.wait("user_removed", 10*time.Second, hookIs("user_removed", "presence-ep"))
	r.observe(time.Second)

	// Each endpoint: its events only, numbered 1, 2, … in arrival order.
	// Which of occupied, added and the client event is stored first is not
	// fixed (the presence watcher and the socket report them apart); each
	// channel's and member's own order is.
	byPath := map[string][]string{}
	for _, q := range r.requests() {
		wantHeader := map[string][2]string{"/members": {"X-Token", "members"}, "/channels": {"Authorization", "Bearer channels"}}[q.Path]
		if q.Header.Get(wantHeader[0]) != wantHeader[1] || q.Endpoint != strings.TrimPrefix(q.Path, "/") || q.Delivery == "" {
			t.Errorf("request to %s: endpoint %q delivery %q headers %v", q.Path, q.Endpoint, q.Delivery, q.Header)
		}
		for _, e := range q.Events {
			if want := uint64(len(byPath[q.Path]) + 1); e.Seq != want {
				t.Errorf("%s: %s has seq %d, want %d", q.Path, e.Name, e.Seq, want)
			}
			byPath[q.Path] = append(byPath[q.Path], e.Name)
		}
	}
	if want := []string{"user_added", "user_removed"}; !slices.Equal(byPath["/members"], want) {
		t.Errorf("members endpoint got %v, want %v", byPath["/members"], want)
	}
	ch := byPath["/channels"]
	if len(ch) != 3 || ch[2] != "channel_vacated" || !slices.Contains(ch, "channel_occupied") || !slices.Contains(ch, "client_event") {
		t.Errorf("channels endpoint got %v, want channel_occupied and client_event, then channel_vacated", ch)
	}

	conn, err := nats.Connect(s.natsListenURL(t)) // the listener wants the generated credentials
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	js, err := jetstream.New(conn)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(t.Context(), "E2E_HOOKS")
	if err != nil {
		t.Fatalf("the sink's stream: %v", err)
	}
	var sink []string
	for seq := uint64(1); ; seq++ {
		m, err := stream.GetMsg(t.Context(), seq)
		if err != nil {
			break
		}
		var e hookEvent
		if err := json.Unmarshal(m.Data, &e); err != nil {
			t.Fatal(err)
		}
		if m.Subject != "e2e.hooks" || e.Seq != seq || m.Header.Get("Pushd-Seq") != strconv.FormatUint(seq, 10) ||
			m.Header.Get("Pushd-Endpoint") != "sink" || m.Header.Get("Pushd-Delivery") == "" {
			t.Errorf("sink message %d (seq %d): subject %s headers %v", seq, e.Seq, m.Subject, m.Header)
		}
		sink = append(sink, e.Name)
	}
	at := func(name string) int { return slices.Index(sink, name) }
	if len(sink) != 5 || at("client_event") < 0 || at("channel_occupied") < 0 || at("member_added") < 0 ||
		at("channel_vacated") < at("channel_occupied") || at("member_removed") < at("member_added") {
		t.Errorf("sink got %v, want the five events, each channel's and member's in order", sink)
	}
}
