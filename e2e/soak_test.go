//go:build soak

package e2e

// TestSoak (issue 9, item 5): `go tool task soak` (or
// SOAK_DURATION=2m go test -tags soak -run TestSoak -count=1 -timeout 10m -v ./e2e).
//
// One external nats-server (JetStream, file store) and two gateways on it.
// After a warm-up that ends with every client gone (the baseline of
// goroutines and RSS is read then), SOAK_DURATION (default 30m) of mixed
// load on loopback:
//   - ~200 native Go clients (wasmclient: reconnect, resubscribe, resume)
//     spread over both gateways, each on a public, a private and a presence
//     channel; 60 % stay for the whole run, the rest churn (a few disconnect
//     and new ones connect every 2 s); stable clients join and leave extra
//     presence channels every 2 s; user ids repeat, so some users have
//     several sockets across both gateways;
//   - API triggers at SOAK_RATE (default 100/s) over 20 channels through
//     both APIs, each carrying its channel's number; per channel one request
//     after the other, so the numbers are the stream order;
//   - client events between 10 pairs of clients on private channels, each
//     numbered by its sender;
//   - halfway, nats-server is stopped (SIGTERM) and started again on the
//     same port and store 5 s later.
//
// Checks at the end:
//   - every subscription episode (Subscribe to Unsubscribe/disconnect) got
//     each number of its channel at most once and in increasing order; an
//     episode open to the end (its client stayed, or reconnected and
//     resumed without pusher:recovery_failed) got every 200'd event stored
//     after its subscription (triggered after subscription_succeeded, or
//     numbered above its first event); an episode closed earlier got every
//     200'd number between its first and its last. A 503 is allowed (and
//     counted), any other answer is not; an event answered 503 may still
//     arrive (counted as unacked_delivered).
//   - below the client's own de-duplication, the raw frames' stream
//     positions grow per channel across reconnects (wire_stale = 0).
//   - client events: none lost outside the NATS outage, none doubled or
//     reordered, none echoed to the sender.
//   - before the clients leave, each presence channel's API users match
//     the connected members on both gateways (within 15 s); once they left,
//     every presence channel has user_count 0 and no users on both
//     gateways, and no channel is occupied (within 15 s); the gateways
//     report 0 connections, subscriptions, channels, member sockets.
//   - goroutines <= baseline + 50 and RSS <= 1.5 x baseline + 20 MiB on each
//     gateway (within 60 s of the clients leaving). The baseline is an idle
//     gateway after a warm-up with clients, presence, triggers; the end is
//     an idle gateway after the run. An idle pushd holds a fixed set of
//     goroutines (listeners, NATS client, webhook and presence workers); 50
//     leaves room for a NATS reconnect's extra helpers and in-flight timers
//     while any per-connection or per-subscription leak (thousands of
//     connections, tens of thousands of subscriptions per 30 min) shows up
//     as hundreds. RSS: the Go runtime keeps freed heap spans for a while
//     and the heap goal follows the peak, so an idle process after a load
//     sits above the idle process before it; 1.5 x + 20 MiB allows that and
//     fails a leak of a few KiB per connection or per event over a 30 min
//     run.
//
// A JSON summary is printed as one line and written to $SOAK_RESULT if set.

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	goroutineMargin = 50
	rssFactor       = 1.5
	rssSlackMB      = 20
)

type soakRun struct {
	t    *testing.T
	gws  []*server
	nats *soakNATS
	load *triggerLoad
	n    soakCounters
	hc   *http.Client // API reads

	mu      sync.Mutex
	nextID  int
	clients []*soakClient // every client ever created
	pool    []*soakClient // live churning clients
	stable  []*soakClient
	pairs   [][2]*soakClient

	errMu         sync.Mutex
	errCodes      map[int]int
	errSamples    []string
	subErrKinds   map[string]int
	subErrSamples []string

	outageStart, natsBack, gwReady time.Time

	peakMu sync.Mutex
	peak   []gwStats
}

func (r *soakRun) noteError(code int, err error) {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	r.errCodes[code]++
	if len(r.errSamples) < 20 {
		r.errSamples = append(r.errSamples, time.Now().Format("15:04:05.000")+" "+err.Error())
	}
}

func (r *soakRun) noteSubError(ch, data string) {
	kind := "public"
	for _, p := range []string{"private-pair", "private", "presence-churn", "presence"} {
		if strings.HasPrefix(ch, p+"-") {
			kind = p
			break
		}
	}
	r.errMu.Lock()
	defer r.errMu.Unlock()
	r.subErrKinds[kind]++
	if len(r.subErrSamples) < 10 {
		r.subErrSamples = append(r.subErrSamples, time.Now().Format("15:04:05.000")+" "+ch+" "+data)
	}
}

func soakEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func TestSoak(t *testing.T) {
	dur := 30 * time.Minute
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			t.Fatalf("SOAK_DURATION=%q: want a Go duration of at least 1m", v)
		}
		dur = d
	}
	nClients := soakEnvInt("SOAK_CLIENTS", 200)
	rate := soakEnvInt("SOAK_RATE", 100)
	warmup := min(max(dur/10, 15*time.Second), time.Minute)
	if dl, ok := t.Deadline(); ok && time.Until(dl) < dur+warmup+4*time.Minute {
		t.Fatalf("-timeout leaves %s, the soak needs about %s: raise -timeout (SOAK_TIMEOUT for the task)",
			time.Until(dl).Round(time.Second), (dur + warmup + 4*time.Minute).Round(time.Second))
	}
	began := time.Now()

	nats := startSoakNATS(t)
	gws := launchGateways(t, nats.URL(), nats.URL())
	t.Cleanup(func() { saveSoakLogs(t, nats, gws) }) // runs before the gateways stop
	r := &soakRun{t: t, gws: gws, nats: nats, errCodes: map[int]int{}, subErrKinds: map[string]int{}, peak: make([]gwStats, len(gws)),
		hc:   &http.Client{Timeout: 5 * time.Second},
		load: newTriggerLoad(gws, triggerChannels(), rate)}
	t.Logf("nats-server %s; gateways ws %s, %s; %d clients, %d events/s over %d channels for %s after a %s warm-up",
		nats.URL(), gws[0].WSAddr, gws[1].WSAddr, nClients, rate, len(r.load.chans), dur, warmup)

	// ---- warm-up: clients, presence, triggers, client churn; then all leave
	var warm []*soakClient
	for i := 0; i < max(nClients/5, 4); i++ {
		warm = append(warm, r.newClient(false, -1))
	}
	r.waitConnected(warm, 30*time.Second)
	r.load.start()
	time.Sleep(warmup / 2)
	for _, c := range warm[:len(warm)/2] { // some churn in the warm-up too
		c.retire()
		r.newClient(false, -1)
	}
	time.Sleep(warmup / 2)
	r.load.stop()
	r.mu.Lock()
	warm = slices.Clone(r.clients)
	r.mu.Unlock()
	for _, c := range warm {
		c.retire()
	}
	r.waitIdle(30 * time.Second)
	time.Sleep(3 * time.Second) // let timers of the closed connections fire
	baseline := make([]gwStats, len(gws))
	for i, g := range gws {
		st, err := readStats(g)
		if err != nil {
			t.Fatalf("baseline metrics of gateway %d: %v", i, err)
		}
		baseline[i] = st
		r.peak[i] = st
	}
	t.Logf("baseline after warm-up: %+v", baseline)

	// ---- the soak
	nStable := nClients * 3 / 5
	nPairs := min(10, nStable/2)
	for k := 0; k < nPairs; k++ {
		a, b := r.newClient(true, k), r.newClient(true, k)
		r.pairs = append(r.pairs, [2]*soakClient{a, b})
		r.stable = append(r.stable, a, b)
	}
	for i := 2 * nPairs; i < nStable; i++ {
		r.stable = append(r.stable, r.newClient(true, -1))
		if i%20 == 0 {
			time.Sleep(100 * time.Millisecond) // ramp up, not a thundering herd
		}
	}
	for i := 0; i < nClients-nStable; i++ {
		r.pool = append(r.pool, r.newClient(false, -1))
		if i%20 == 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	r.mu.Lock()
	all := slices.Clone(r.clients[len(warm):])
	r.mu.Unlock()
	r.waitConnected(all, 60*time.Second)

	mainStart := time.Now()
	r.load.start()
	stopLoops := make(chan struct{})
	var loops sync.WaitGroup
	every := func(d time.Duration, f func()) {
		loops.Add(1)
		go func() {
			defer loops.Done()
			tick := time.NewTicker(d)
			defer tick.Stop()
			for {
				select {
				case <-stopLoops:
					return
				case <-tick.C:
					f()
				}
			}
		}()
	}
	every(2*time.Second, r.churnConnections)
	every(2*time.Second, r.churnPresence)
	every(500*time.Millisecond, func() {
		for _, p := range r.pairs {
			p[0].sendClientEvent()
			p[1].sendClientEvent()
		}
	})
	every(5*time.Second, r.samplePeaks)
	every(30*time.Second, func() { r.progress(mainStart) })

	// ---- NATS restart halfway
	time.Sleep(time.Until(mainStart.Add(dur / 2)))
	t.Logf("stopping nats-server")
	r.outageStart = time.Now()
	streamsBefore := nats.streams()
	nats.stop()
	time.Sleep(5 * time.Second)
	nats.start(t)
	r.natsBack = time.Now()
	t.Logf("nats-server back after %s", r.natsBack.Sub(r.outageStart).Round(time.Millisecond))
	var failures []string
	ready := time.Now().Add(60 * time.Second)
	for {
		ok := 0
		for _, g := range gws {
			if readyz(r.hc, g) == http.StatusOK {
				ok++
			}
		}
		if ok == len(gws) {
			r.gwReady = time.Now()
			break
		}
		if time.Now().After(ready) {
			failures = append(failures, "a gateway's /readyz was not 200 within 60 s of nats-server's return")
			r.gwReady = time.Now()
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("both gateways ready %s after the stop", r.gwReady.Sub(r.outageStart).Round(time.Millisecond))
	time.Sleep(2 * time.Second)
	streamsAfter := nats.streams()
	t.Logf("JetStream streams before the stop %v, 2 s after the gateways were ready %v", streamsBefore, streamsAfter)

	time.Sleep(time.Until(mainStart.Add(dur)))
	close(stopLoops)
	loops.Wait()
	time.Sleep(2 * time.Second) // the last client events
	r.load.stop()
	mainEnd := time.Now()
	r.progress(mainStart)

	// ---- drain: open episodes get the last events
	recs := map[string][]trigRec{}
	for _, c := range r.load.chans {
		recs[c.name] = c.snapshot()
	}
	var tr trigResult
	drain := time.Now().Add(30 * time.Second)
	for {
		tr = r.checkTriggers(recs)
		if tr.Lost == 0 || time.Now().After(drain) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	cr := r.checkClientEvents()
	wireStale, wireSamples := 0, []string(nil)
	r.mu.Lock()
	everyone := slices.Clone(r.clients)
	r.mu.Unlock()
	for _, c := range everyone {
		c.wire.mu.Lock()
		wireStale += c.wire.stale
		if len(wireSamples) < 10 {
			for _, s := range c.wire.sample {
				wireSamples = append(wireSamples, fmt.Sprintf("client %d (gateway %d): %s", c.id, c.gw, s))
			}
		}
		c.wire.mu.Unlock()
	}

	// ---- presence matches the connected members, then everyone leaves
	presenceMismatch := r.checkPresence(15 * time.Second)
	for _, c := range everyone {
		c.retire()
	}
	leftAt := time.Now()
	ghosts, occupied := r.checkGhosts(15 * time.Second)
	ghostWait := time.Since(leftAt)
	r.waitIdle(15 * time.Second)

	// ---- goroutines and RSS back near the baseline
	after := make([]gwStats, len(gws))
	settle := time.Now().Add(60 * time.Second)
	for {
		within := true
		for i, g := range gws {
			st, err := readStats(g)
			if err != nil {
				within = false
				continue
			}
			after[i] = st
			if !resourcesWithin(baseline[i], st) || st.Connections+st.Subscriptions+st.Channels+st.PresenceSockets != 0 {
				within = false
			}
		}
		if within || time.Now().After(settle) {
			break
		}
		time.Sleep(time.Second)
	}

	// ---- verdict
	sum := soakSummary{
		DurationS: round1(mainEnd.Sub(mainStart).Seconds()), WarmupS: round1(warmup.Seconds()),
		TotalS: round1(time.Since(began).Seconds()), Gateways: len(gws), Clients: nClients, RatePerS: rate,
		Bounds: fmt.Sprintf("goroutines <= before+%d, rss_mb <= %.1f*before+%d", goroutineMargin, rssFactor, rssSlackMB),
	}
	r.load.mu.Lock()
	sum.Events.Statuses = map[string]int{}
	for st, n := range r.load.statuses {
		sum.Events.Triggered += n
		sum.Events.Statuses[strconv.Itoa(st)] = n
		switch st {
		case http.StatusOK:
			sum.Events.Acknowledged += n
		case http.StatusServiceUnavailable:
			sum.Events.Status503 += n
		default:
			sum.Events.Other += n
		}
	}
	apiSamples := slices.Clone(r.load.samples)
	r.load.mu.Unlock()
	sum.Events.UnackedDelivered = tr.Unacked
	sum.Deliveries = r.n.deliveries.Load()
	sum.Checked = tr.checked
	sum.Lost, sum.Duplicated, sum.Reordered = tr.Lost, tr.Dup, tr.Reorder
	sum.EarlyEvents, sum.BogusEvents, sum.WireStale = tr.Early, tr.Bogus, wireStale
	sum.RecoveryFailed = int(r.n.recoveryFailed.Load())
	sum.ClientEvents = cr
	sum.ClientEvents.SendErrors = int(r.n.cevSendErrs.Load())
	sum.ClientEvents.Received = int(r.n.cevReceived.Load())
	sum.Connects, sum.Disconnects, sum.UnexpectedDrops = r.n.connects.Load(), r.n.disconnects.Load(), r.n.drops.Load()
	sum.ClientsCreated = r.n.created.Load()
	sum.PresenceJoins, sum.PresenceLeaves = r.n.presJoins.Load(), r.n.presLeaves.Load()
	sum.SubscriptionErrors, sum.SubscriptionRetries = r.n.subErrs.Load(), r.n.subRetries.Load()
	r.errMu.Lock()
	sum.SubscriptionErrorKinds = maps.Clone(r.subErrKinds)
	sum.ErrorCodes = map[string]int{}
	for c, n := range r.errCodes {
		sum.ErrorCodes[strconv.Itoa(c)] = n
	}
	errSamples := slices.Clone(r.errSamples)
	r.errMu.Unlock()
	sum.NATSOutageS = round1(r.natsBack.Sub(r.outageStart).Seconds())
	sum.GatewayRecoveryS = round1(r.gwReady.Sub(r.outageStart).Seconds())
	sum.PresenceMismatch = presenceMismatch
	sum.StreamsBeforeRestart, sum.StreamsAfterRestart = streamsBefore, streamsAfter
	sum.Ghosts, sum.OccupiedAfter, sum.GhostCheckS = ghosts, occupied, round1(ghostWait.Seconds())
	r.peakMu.Lock()
	for i := range gws {
		sum.Gateway = append(sum.Gateway, gwSummary{Before: baseline[i], Peak: r.peak[i], After: after[i]})
	}
	r.peakMu.Unlock()
	sum.LostExamples = tr.examples

	if sum.Events.Other > 0 {
		failures = append(failures, fmt.Sprintf("%d API answers neither 200 nor 503: %v", sum.Events.Other, apiSamples))
	}
	if sum.Events.Acknowledged == 0 {
		failures = append(failures, "no event was acknowledged")
	}
	if tr.Lost+tr.Dup+tr.Reorder > 0 {
		failures = append(failures, fmt.Sprintf("API events: %d lost, %d duplicated, %d reordered (of %d expected deliveries); e.g. %v",
			tr.Lost, tr.Dup, tr.Reorder, tr.checked.Expected, tr.examples))
	}
	if tr.Early+tr.Bogus > 0 {
		failures = append(failures, fmt.Sprintf("%d events before subscription_succeeded, %d with foreign data", tr.Early, tr.Bogus))
	}
	if wireStale > 0 {
		failures = append(failures, fmt.Sprintf("%d event frames with a stream position not above the channel's last (duplicates the client dropped): %v", wireStale, wireSamples))
	}
	if cr.Lost+cr.Duplicated+cr.Reordered+cr.Echoed > 0 {
		failures = append(failures, fmt.Sprintf("client events: %d lost outside the NATS outage, %d duplicated, %d reordered, %d echoed; e.g. %v",
			cr.Lost, cr.Duplicated, cr.Reordered, cr.Echoed, cr.examples))
	}
	if presenceMismatch != "" {
		failures = append(failures, "presence before the clients left: "+presenceMismatch)
	}
	if len(ghosts) > 0 || occupied > 0 {
		failures = append(failures, fmt.Sprintf("15 s after every client left: ghost members %v, %d occupied channels", ghosts, occupied))
	}
	for i := range gws {
		b, a := baseline[i], after[i]
		if a.Connections+a.Subscriptions+a.Channels+a.PresenceSockets != 0 {
			failures = append(failures, fmt.Sprintf("gateway %d after everyone left: %d connections, %d subscriptions, %d channels, %d member sockets",
				i, a.Connections, a.Subscriptions, a.Channels, a.PresenceSockets))
		}
		if !resourcesWithin(b, a) {
			failures = append(failures, fmt.Sprintf("gateway %d not back to baseline within 60 s: goroutines %d -> %d (max %d), RSS %.1f -> %.1f MiB (max %.1f), heap in use %.1f -> %.1f MiB",
				i, b.Goroutines, a.Goroutines, b.Goroutines+goroutineMargin, b.RSSMB, a.RSSMB, rssFactor*b.RSSMB+rssSlackMB, b.HeapInuseMB, a.HeapInuseMB))
		}
	}
	failures = append(failures, r.clientFailures()...)
	sum.Failures = failures
	sum.Pass = len(failures) == 0

	out, _ := json.Marshal(sum)
	fmt.Println(string(out))
	if p := os.Getenv("SOAK_RESULT"); p != "" {
		if err := os.WriteFile(p, append(out, '\n'), 0o644); err != nil {
			t.Errorf("SOAK_RESULT: %v", err)
		}
	}
	r.errMu.Lock()
	subErrs := r.subErrSamples
	r.errMu.Unlock()
	if len(subErrs) > 0 {
		t.Logf("subscription errors by channel kind %v; first ones: %s", sum.SubscriptionErrorKinds, strings.Join(subErrs, "; "))
	}
	if len(errSamples) > 0 {
		t.Logf("client-side errors (first %d): %s", len(errSamples), strings.Join(errSamples, "; "))
	}
	for _, f := range failures {
		t.Error(f)
	}
}

// saveSoakLogs writes the whole logs of the gateways and nats-server to
// $SOAK_LOGS, or to a kept temp directory when the test failed (the
// harness only prints their tails).
func saveSoakLogs(t *testing.T, nats *soakNATS, gws []*server) {
	dir := os.Getenv("SOAK_LOGS")
	if dir == "" && !t.Failed() {
		return
	}
	var err error
	if dir == "" {
		dir, err = os.MkdirTemp("", "pushd-soak-logs-")
	} else {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		t.Logf("soak logs: %v", err)
		return
	}
	for i, g := range gws {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("pushd-%d.log", i)), []byte(g.log.String()), 0o644)
	}
	natsLog := strings.Join(append(slices.Clone(nats.logs), nats.node.log.String()), "\n---- restarted ----\n")
	os.WriteFile(filepath.Join(dir, "nats-server.log"), []byte(natsLog), 0o644)
	t.Logf("full logs of the gateways and nats-server in %s", dir)
}

// resourcesWithin is the leak bound (see the file comment).
func resourcesWithin(before, after gwStats) bool {
	return after.Goroutines <= before.Goroutines+goroutineMargin && after.RSSMB <= rssFactor*before.RSSMB+rssSlackMB
}

// clientFailures: clients that never connected.
func (r *soakRun) clientFailures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var never []int
	for _, c := range r.clients {
		c.mu.Lock()
		if c.drops == 0 && !c.up && len(c.eps) > 0 && c.eps[0].okAt.IsZero() && !c.retired {
			never = append(never, c.id)
		}
		c.mu.Unlock()
	}
	if len(never) > 0 {
		return []string{fmt.Sprintf("%d clients never connected: %v", len(never), never)}
	}
	return nil
}

type gwSummary struct {
	Before gwStats `json:"before"`
	Peak   gwStats `json:"peak"`
	After  gwStats `json:"after"`
}

type soakSummary struct {
	Pass      bool    `json:"pass"`
	DurationS float64 `json:"duration_s"`
	WarmupS   float64 `json:"warmup_s"`
	TotalS    float64 `json:"total_s"`
	Gateways  int     `json:"gateways"`
	Clients   int     `json:"clients"`
	RatePerS  int     `json:"rate_per_s"`
	Events    struct {
		Triggered        int            `json:"triggered"`
		Acknowledged     int            `json:"acknowledged"`
		Status503        int            `json:"status_503"`
		Other            int            `json:"other"`
		Statuses         map[string]int `json:"statuses"`
		UnackedDelivered int            `json:"unacked_delivered"`
	} `json:"events"`
	Deliveries             int64             `json:"deliveries"`
	Checked                checkedCounts     `json:"checked"`
	Lost                   int               `json:"lost"`
	Duplicated             int               `json:"duplicated"`
	Reordered              int               `json:"reordered"`
	EarlyEvents            int               `json:"early_events"`
	BogusEvents            int               `json:"bogus_events"`
	WireStale              int               `json:"wire_stale"`
	RecoveryFailed         int               `json:"recovery_failed"`
	ClientEvents           cevResult         `json:"client_events"`
	ClientsCreated         int64             `json:"clients_created"`
	Connects               int64             `json:"connects"`
	Disconnects            int64             `json:"disconnects"`
	UnexpectedDrops        int64             `json:"unexpected_drops"`
	PresenceJoins          int64             `json:"presence_joins"`
	PresenceLeaves         int64             `json:"presence_leaves"`
	SubscriptionErrors     int64             `json:"subscription_errors"`
	SubscriptionRetries    int64             `json:"subscription_retries"`
	SubscriptionErrorKinds map[string]int    `json:"subscription_error_kinds"`
	ErrorCodes             map[string]int    `json:"error_codes"`
	NATSOutageS            float64           `json:"nats_outage_s"`
	GatewayRecoveryS       float64           `json:"gateway_recovery_s"`
	StreamsBeforeRestart   []string          `json:"streams_before_restart"`
	StreamsAfterRestart    []string          `json:"streams_after_restart"`
	PresenceMismatch       string            `json:"presence_mismatch,omitempty"`
	Ghosts                 map[string]string `json:"ghosts,omitempty"`
	OccupiedAfter          int               `json:"occupied_after"`
	GhostCheckS            float64           `json:"ghost_check_s"`
	Gateway                []gwSummary       `json:"gateway"`
	Bounds                 string            `json:"bounds"`
	LostExamples           []string          `json:"lost_examples,omitempty"`
	Failures               []string          `json:"failures"`
}

// ---------------------------------------------------------------- phases

// waitConnected waits (bounded) until most clients are connected.
func (r *soakRun) waitConnected(cs []*soakClient, within time.Duration) {
	r.t.Helper()
	deadline := time.Now().Add(within)
	for {
		up := 0
		for _, c := range cs {
			if c.isUp() {
				up++
			}
		}
		if up == len(cs) {
			return
		}
		if time.Now().After(deadline) {
			if up < len(cs)/2 {
				r.t.Fatalf("only %d of %d clients connected within %s", up, len(cs), within)
			}
			r.t.Logf("%d of %d clients connected within %s", up, len(cs), within)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitIdle waits (bounded) until no gateway reports a connection.
func (r *soakRun) waitIdle(within time.Duration) {
	deadline := time.Now().Add(within)
	for {
		busy := 0
		for _, g := range r.gws {
			if st, err := readStats(g); err != nil || st.Connections > 0 {
				busy++
			}
		}
		if busy == 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// churnConnections replaces a few churning clients with new ones.
func (r *soakRun) churnConnections() {
	k := max(1, len(r.pool)/20)
	for i := 0; i < k && len(r.pool) > 0; i++ {
		j := rand.IntN(len(r.pool))
		r.pool[j].retire()
		r.pool[j] = r.newClient(false, -1)
	}
}

// churnPresence makes a few stable clients join or leave a presence channel.
func (r *soakRun) churnPresence() {
	var cand []*soakClient
	for _, c := range r.stable {
		if c.pair < 0 {
			cand = append(cand, c)
		}
	}
	for i := 0; i < 4 && len(cand) > 0; i++ {
		c := cand[rand.IntN(len(cand))]
		c.mu.Lock()
		var in string
		for ch := range c.cur {
			if strings.HasPrefix(ch, "presence-churn-") {
				in = ch
			}
		}
		c.mu.Unlock()
		if in != "" {
			c.unsubscribe(in)
		} else {
			c.subscribe("presence-churn-" + strconv.Itoa(rand.IntN(nChurnPres)))
		}
	}
}

func (r *soakRun) samplePeaks() {
	for i, g := range r.gws {
		st, err := readStats(g)
		if err != nil {
			continue
		}
		r.peakMu.Lock()
		p := &r.peak[i]
		p.Goroutines = max(p.Goroutines, st.Goroutines)
		p.RSSMB = max(p.RSSMB, st.RSSMB)
		p.HeapInuseMB = max(p.HeapInuseMB, st.HeapInuseMB)
		p.Connections = max(p.Connections, st.Connections)
		p.Subscriptions = max(p.Subscriptions, st.Subscriptions)
		p.Channels = max(p.Channels, st.Channels)
		p.PresenceSockets = max(p.PresenceSockets, st.PresenceSockets)
		p.NATSConnected = st.NATSConnected
		p.SlowConsumers = st.SlowConsumers
		r.peakMu.Unlock()
	}
}

func (r *soakRun) progress(start time.Time) {
	r.load.mu.Lock()
	ok, unav := r.load.statuses[http.StatusOK], r.load.statuses[http.StatusServiceUnavailable]
	r.load.mu.Unlock()
	var gs []string
	for _, g := range r.gws {
		if st, err := readStats(g); err == nil {
			gs = append(gs, fmt.Sprintf("[conns %d goroutines %d rss %.0fMiB]", st.Connections, st.Goroutines, st.RSSMB))
		}
	}
	r.t.Logf("t+%s: 200s %d, 503s %d, deliveries %d, client events %d/%d, connects %d, drops %d, presence +%d -%d, sub errors %d, gateways %s",
		time.Since(start).Round(time.Second), ok, unav, r.n.deliveries.Load(), r.n.cevReceived.Load(), r.n.cevSent.Load(),
		r.n.connects.Load(), r.n.drops.Load(), r.n.presJoins.Load(), r.n.presLeaves.Load(), r.n.subErrs.Load(), strings.Join(gs, " "))
}

// ---------------------------------------------------------------- checks

type checkedCounts struct {
	Episodes      int `json:"episodes"`
	OpenEpisodes  int `json:"open_episodes"`
	ClientsStayed int `json:"clients_stayed"`
	Expected      int `json:"expected_deliveries"`
}

type trigResult struct {
	checked                     checkedCounts
	Lost, Dup, Reorder, Unacked int
	Early, Bogus                int
	examples                    []string
}

// checkTriggers checks every episode on a trigger channel (see the file
// comment for the rules).
func (r *soakRun) checkTriggers(recs map[string][]trigRec) trigResult {
	var res trigResult
	r.mu.Lock()
	clients := slices.Clone(r.clients)
	r.mu.Unlock()
	for _, c := range clients {
		c.mu.Lock()
		stayedOpen := false
		for _, ep := range c.eps {
			rs, ok := recs[ep.ch]
			if !ok {
				continue
			}
			open := ep.closedAt.IsZero()
			res.checked.Episodes++
			if open {
				res.checked.OpenEpisodes++
				stayedOpen = true
			}
			res.Early += ep.early
			res.Bogus += ep.bogus
			seen := make([]bool, len(rs)+1)
			var first, top uint32
			for _, n := range ep.recv {
				if int(n) > len(rs) {
					res.Bogus++
					continue
				}
				if seen[n] {
					res.Dup++
					res.example(fmt.Sprintf("dup: client %d (gw %d) %s #%d", c.id, c.gw, ep.ch, n))
					continue
				}
				seen[n] = true
				if first == 0 {
					first = n
				}
				if n < top {
					res.Reorder++
					res.example(fmt.Sprintf("reorder: client %d (gw %d) %s #%d after #%d", c.id, c.gw, ep.ch, n, top))
				} else {
					top = n
				}
				if rs[n-1].status != http.StatusOK {
					res.Unacked++
				}
			}
			if ep.recovery {
				continue
			}
			var okNs int64
			if !ep.okAt.IsZero() {
				okNs = ep.okAt.UnixNano()
			}
			for i, rec := range rs {
				n := uint32(i + 1)
				if rec.status != http.StatusOK {
					continue
				}
				want := (first != 0 && n > first) || (okNs != 0 && rec.start > okNs)
				if !open {
					want = want && first != 0 && n < top
				}
				if !want {
					continue
				}
				res.checked.Expected++
				if !seen[n] {
					res.Lost++
					res.example(fmt.Sprintf("lost: client %d (gw %d, %d drops, up %v) %s #%d (via gw %d, 200 at %s, %d ms; subscribed %s)",
						c.id, c.gw, c.drops, c.up, ep.ch, n, int(n)%len(r.gws), time.Unix(0, rec.end).Format("15:04:05.000"),
						(rec.end-rec.start)/1e6, ep.okAt.Format("15:04:05.000")))
				}
			}
		}
		if stayedOpen {
			res.checked.ClientsStayed++
		}
		c.mu.Unlock()
	}
	return res
}

func (res *trigResult) example(s string) {
	if len(res.examples) < 12 {
		res.examples = append(res.examples, s)
	}
}

type cevResult struct {
	Sent         int `json:"sent"`
	SendErrors   int `json:"send_errors"`
	Received     int `json:"received"`
	Expected     int `json:"expected"`
	Lost         int `json:"lost"`
	LostInOutage int `json:"lost_in_outage"`
	Duplicated   int `json:"duplicated"`
	Reordered    int `json:"reordered"`
	Echoed       int `json:"echoed"`
	examples     []string
}

// checkClientEvents checks each pair's client events, both directions.
func (r *soakRun) checkClientEvents() cevResult {
	var res cevResult
	ex := func(s string) {
		if len(res.examples) < 8 {
			res.examples = append(res.examples, s)
		}
	}
	var from, to int64
	if !r.outageStart.IsZero() {
		from, to = r.outageStart.Add(-time.Second).UnixNano(), r.gwReady.Add(5*time.Second).UnixNano()
	}
	for _, p := range r.pairs {
		for dir := 0; dir < 2; dir++ {
			snd, rcv := p[dir], p[1-dir]
			snd.mu.Lock()
			sent := slices.Clone(snd.cevSent)
			for _, ep := range snd.eps {
				res.Echoed += len(ep.cev[snd.id])
			}
			snd.mu.Unlock()
			rcv.mu.Lock()
			var got []uint32
			type window struct{ from, to int64 }
			var wins []window
			for _, ep := range rcv.eps {
				if ep.cev == nil {
					continue
				}
				got = append(got, ep.cev[snd.id]...)
				if !ep.okAt.IsZero() {
					w := window{ep.okAt.UnixNano(), time.Now().UnixNano()}
					if !ep.closedAt.IsZero() {
						w.to = ep.closedAt.UnixNano()
					}
					wins = append(wins, w)
				}
			}
			rcv.mu.Unlock()
			seen := make([]bool, len(sent)+1)
			var top uint32
			for _, n := range got {
				if int(n) > len(sent) || n == 0 {
					continue
				}
				if seen[n] {
					res.Duplicated++
					ex(fmt.Sprintf("dup: %d->%d #%d", snd.id, rcv.id, n))
					continue
				}
				seen[n] = true
				if n < top {
					res.Reordered++
					ex(fmt.Sprintf("reorder: %d->%d #%d after #%d", snd.id, rcv.id, n, top))
				} else {
					top = n
				}
			}
			for i, s := range sent {
				if !s.ok {
					continue
				}
				res.Sent++
				in := false
				for _, w := range wins {
					if s.at > w.from && s.at < w.to {
						in = true
					}
				}
				if !in {
					continue
				}
				res.Expected++
				if seen[i+1] {
					continue
				}
				if s.at >= from && s.at <= to {
					res.LostInOutage++
					continue
				}
				res.Lost++
				ex(fmt.Sprintf("lost: %d (gw %d) -> %d (gw %d) #%d sent %s", snd.id, snd.gw, rcv.id, rcv.gw, i+1, time.Unix(0, s.at).Format("15:04:05.000")))
			}
		}
	}
	return res
}

// checkPresence compares each presence channel's API users on every
// gateway with the members the connected clients hold (clients in a
// reconnect may or may not count), for up to within.
func (r *soakRun) checkPresence(within time.Duration) string {
	deadline := time.Now().Add(within)
	for {
		must, may := map[string]map[string]bool{}, map[string]map[string]bool{}
		for _, ch := range presenceChannels() {
			must[ch], may[ch] = map[string]bool{}, map[string]bool{}
		}
		r.mu.Lock()
		clients := slices.Clone(r.clients)
		r.mu.Unlock()
		for _, c := range clients {
			c.mu.Lock()
			for ch, ep := range c.cur {
				if !ep.pres || must[ch] == nil {
					continue
				}
				if c.up && !ep.okAt.IsZero() && !c.retired {
					must[ch][c.user] = true
				} else if !c.retired {
					may[ch][c.user] = true
				}
			}
			c.mu.Unlock()
		}
		var bad []string
		for _, ch := range presenceChannels() {
			for gi, g := range r.gws {
				got, err := r.users(g, ch)
				if err != nil {
					bad = append(bad, fmt.Sprintf("gw %d %s: %v", gi, ch, err))
					continue
				}
				var missing, extra []string
				for u := range must[ch] {
					if !got[u] {
						missing = append(missing, u)
					}
				}
				for u := range got {
					if !must[ch][u] && !may[ch][u] {
						extra = append(extra, u)
					}
				}
				if len(missing)+len(extra) > 0 {
					sort.Strings(missing)
					sort.Strings(extra)
					bad = append(bad, fmt.Sprintf("gw %d %s: %d users, missing %v, extra %v", gi, ch, len(got), missing, extra))
				}
			}
		}
		if len(bad) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(bad, "; ")
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// users reads a presence channel's user ids from one gateway.
func (r *soakRun) users(g *server, ch string) (map[string]bool, error) {
	st, body := soakAPI(r.hc, g, http.MethodGet, "/apps/1/channels/"+ch+"/users", nil, "")
	if st != http.StatusOK {
		return nil, fmt.Errorf("users: %d %s", st, tail(body, 200))
	}
	var d struct{ Users []struct{ ID string } }
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, u := range d.Users {
		out[u.ID] = true
	}
	return out, nil
}

// checkGhosts waits (up to within) until no presence channel has a user or
// a user_count above 0 on any gateway and the channel list is empty; it
// returns what was left: ghosts per "gw/channel" and occupied channels.
func (r *soakRun) checkGhosts(within time.Duration) (map[string]string, int) {
	deadline := time.Now().Add(within)
	for {
		ghosts := map[string]string{}
		occupied := 0
		for gi, g := range r.gws {
			for _, ch := range presenceChannels() {
				key := fmt.Sprintf("gw%d/%s", gi, ch)
				users, err := r.users(g, ch)
				if err != nil {
					ghosts[key] = err.Error()
					continue
				}
				st, body := soakAPI(r.hc, g, http.MethodGet, "/apps/1/channels/"+ch, url.Values{"info": {"user_count"}}, "")
				var info struct {
					Occupied  bool `json:"occupied"`
					UserCount int  `json:"user_count"`
				}
				if st != http.StatusOK || json.Unmarshal([]byte(body), &info) != nil {
					ghosts[key] = fmt.Sprintf("channel info: %d %s", st, tail(body, 200))
					continue
				}
				if len(users) > 0 || info.UserCount != 0 || info.Occupied {
					var ids []string
					for u := range users {
						ids = append(ids, u)
					}
					sort.Strings(ids)
					ghosts[key] = fmt.Sprintf("user_count %d occupied %v users %v", info.UserCount, info.Occupied, ids)
				}
			}
			st, body := soakAPI(r.hc, g, http.MethodGet, "/apps/1/channels", nil, "")
			var list struct {
				Channels map[string]json.RawMessage `json:"channels"`
			}
			if st != http.StatusOK || json.Unmarshal([]byte(body), &list) != nil {
				ghosts[fmt.Sprintf("gw%d/channels", gi)] = fmt.Sprintf("%d %s", st, tail(body, 200))
				continue
			}
			if len(list.Channels) > 0 {
				occupied += len(list.Channels)
				var names []string
				for ch := range list.Channels {
					names = append(names, ch)
				}
				sort.Strings(names)
				ghosts[fmt.Sprintf("gw%d/channels", gi)] = fmt.Sprintf("occupied %v", names)
			}
		}
		if (len(ghosts) == 0 && occupied == 0) || time.Now().After(deadline) {
			return ghosts, occupied
		}
		time.Sleep(250 * time.Millisecond)
	}
}
