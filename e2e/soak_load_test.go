//go:build soak

package e2e

// The load of the soak test: API triggers with a per-channel number in the
// data, native Go clients (wasmclient) that record what they receive per
// subscription episode, and client events between pairs.

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushd/pushd/wasmclient"
)

// ---------------------------------------------------------------- triggers

// trigRec is one API trigger: the n-th of its channel is recs[n-1].
type trigRec struct {
	status     int
	start, end int64 // unix ns
}

type trigChan struct {
	name string
	mu   sync.Mutex
	recs []trigRec
}

func (c *trigChan) snapshot() []trigRec {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]trigRec(nil), c.recs...)
}

// triggerLoad posts events at a steady rate: one goroutine per channel, its
// requests one after the other (so the stream holds a channel's events in
// the order of their numbers), alternating between the gateways' APIs.
type triggerLoad struct {
	chans    []*trigChan
	gws      []*server
	hc       *http.Client
	interval time.Duration // per channel

	stopc chan struct{}
	wg    sync.WaitGroup

	mu       sync.Mutex
	statuses map[int]int
	samples  []string // bodies of unexpected answers
}

func newTriggerLoad(gws []*server, names []string, perSecond int) *triggerLoad {
	l := &triggerLoad{gws: gws, statuses: map[int]int{},
		hc: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	for _, n := range names {
		l.chans = append(l.chans, &trigChan{name: n})
	}
	l.interval = time.Duration(float64(time.Second) * float64(len(names)) / float64(perSecond))
	return l
}

func (l *triggerLoad) start() {
	l.stopc = make(chan struct{})
	for i, c := range l.chans {
		l.wg.Add(1)
		go l.run(c, time.Duration(i)*l.interval/time.Duration(len(l.chans)))
	}
}

func (l *triggerLoad) stop() {
	close(l.stopc)
	l.wg.Wait()
	l.hc.CloseIdleConnections()
}

func (l *triggerLoad) run(c *trigChan, offset time.Duration) {
	defer l.wg.Done()
	select {
	case <-time.After(offset):
	case <-l.stopc:
		return
	}
	tick := time.NewTicker(l.interval)
	defer tick.Stop()
	for {
		select {
		case <-l.stopc:
			return
		case <-tick.C:
		}
		c.mu.Lock()
		n := len(c.recs) + 1
		c.recs = append(c.recs, trigRec{start: time.Now().UnixNano()})
		c.mu.Unlock()
		body := `{"name":"soak","channel":"` + c.name + `","data":"` + strconv.Itoa(n) + `"}`
		st, resp := soakAPI(l.hc, l.gws[n%len(l.gws)], http.MethodPost, "/apps/1/events", nil, body)
		c.mu.Lock()
		c.recs[n-1].status, c.recs[n-1].end = st, time.Now().UnixNano()
		c.mu.Unlock()
		l.mu.Lock()
		l.statuses[st]++
		if st != http.StatusOK && st != http.StatusServiceUnavailable && len(l.samples) < 10 {
			l.samples = append(l.samples, fmt.Sprintf("%s #%d via gateway %d: %d %s", c.name, n, n%len(l.gws), st, tail(resp, 200)))
		}
		l.mu.Unlock()
	}
}

// ---------------------------------------------------------------- clients

// soakEp is one subscription episode of a client on a channel: from the
// Subscribe call to the Unsubscribe or the client's end.
type soakEp struct {
	ch       string
	pres     bool
	subAt    time.Time
	okAt     time.Time // first subscription_succeeded
	closedAt time.Time // zero while open
	recv     []uint32  // numbers of the API events, in arrival order
	early    int       // events before subscription_succeeded (none may come)
	bogus    int       // events whose data is not a number
	recovery bool      // pusher:recovery_failed
	subErrs  int
	cev      map[int][]uint32 // pair channels: sender id -> numbers of its client events
}

// cevSend is one client event a pair client sent.
type cevSend struct {
	at int64 // unix ns
	ok bool  // Trigger returned nil
}

type soakClient struct {
	r      *soakRun
	id, gw int
	user   string
	stable bool
	pair   int // pair index, -1 when not in a pair
	c      *wasmclient.Client
	wire   *soakWire

	mu       sync.Mutex
	cur      map[string]*soakEp
	eps      []*soakEp
	retired  bool
	up       bool // connected
	drops    int  // connection losses the test did not ask for
	cevN     int
	cevSent  []cevSend
	errCodes map[int]int
}

// soakCounters are the run's totals (atomic).
type soakCounters struct {
	connects, disconnects, drops atomic.Int64
	presJoins, presLeaves        atomic.Int64
	subErrs, subRetries          atomic.Int64
	recoveryFailed               atomic.Int64
	deliveries, cevReceived      atomic.Int64
	cevSent, cevSendErrs         atomic.Int64
	created, retired             atomic.Int64
}

// Channel layout: 20 trigger channels (8 public, 8 private, 4 presence),
// 4 presence channels that stable clients join and leave, and one private
// channel per pair for client events.
const (
	nPub, nPriv, nPres, nChurnPres = 8, 8, 4, 4
	usersMod                       = 90 // user ids repeat: some users have several sockets
)

func triggerChannels() []string {
	var out []string
	for i := 0; i < nPub; i++ {
		out = append(out, "soak-pub-"+strconv.Itoa(i))
	}
	for i := 0; i < nPriv; i++ {
		out = append(out, "private-soak-"+strconv.Itoa(i))
	}
	for i := 0; i < nPres; i++ {
		out = append(out, "presence-soak-"+strconv.Itoa(i))
	}
	return out
}

func presenceChannels() []string {
	var out []string
	for i := 0; i < nPres; i++ {
		out = append(out, "presence-soak-"+strconv.Itoa(i))
	}
	for i := 0; i < nChurnPres; i++ {
		out = append(out, "presence-churn-"+strconv.Itoa(i))
	}
	return out
}

func pairChannel(k int) string { return "private-pair-" + strconv.Itoa(k) }

// newClient creates, subscribes and connects a client on gateway id%2.
func (r *soakRun) newClient(stable bool, pair int) *soakClient {
	r.mu.Lock()
	id := r.nextID
	r.nextID++
	r.mu.Unlock()
	sc := &soakClient{r: r, id: id, gw: id % len(r.gws), user: fmt.Sprintf("u%02d", id%usersMod), stable: stable, pair: pair,
		wire: newSoakWire(), cur: map[string]*soakEp{}, errCodes: map[int]int{}}
	auth := wasmclient.SecretAuthorizer{Key: "app-key", Secret: "app-secret",
		Member: func(string) (string, string) { return sc.user, `{"client":` + strconv.Itoa(id) + `}` }}
	sc.c = wasmclient.New(wasmclient.Options{
		URL: "ws://" + r.gws[sc.gw].WSAddr, Key: "app-key", Authorizer: auth, Transport: sc.wire,
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second, DialTimeout: 5 * time.Second,
		OnStateChange: sc.onState, OnError: sc.onError,
	})
	sc.c.Bind("", sc.onEvent) // global: sees every channel's events, bound before anything arrives
	sc.subscribe(fmt.Sprintf("soak-pub-%d", id%nPub))
	sc.subscribe(fmt.Sprintf("private-soak-%d", (id/2)%nPriv))
	sc.subscribe(fmt.Sprintf("presence-soak-%d", (id/3)%nPres))
	if pair >= 0 {
		sc.subscribe(pairChannel(pair))
	}
	r.mu.Lock()
	r.clients = append(r.clients, sc)
	r.mu.Unlock()
	r.n.created.Add(1)
	sc.c.Connect()
	return sc
}

func (sc *soakClient) subscribe(ch string) {
	sc.mu.Lock()
	if sc.retired {
		sc.mu.Unlock()
		return
	}
	ep := &soakEp{ch: ch, pres: strings.HasPrefix(ch, "presence-"), subAt: time.Now()}
	if strings.HasPrefix(ch, "private-pair-") {
		ep.cev = map[int][]uint32{}
	}
	sc.cur[ch] = ep
	sc.eps = append(sc.eps, ep)
	sc.mu.Unlock()
	sc.wire.reset(ch)
	sc.c.Subscribe(ch)
}

// unsubscribe leaves ch (a presence leave on presence channels).
func (sc *soakClient) unsubscribe(ch string) {
	sc.c.Unsubscribe(ch) // first: events still in flight are dropped by the client
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if ep := sc.cur[ch]; ep != nil {
		delete(sc.cur, ch)
		sc.closeEp(ep)
	}
}

func (sc *soakClient) closeEp(ep *soakEp) {
	ep.closedAt = time.Now()
	if ep.pres && !ep.okAt.IsZero() {
		sc.r.n.presLeaves.Add(1)
	}
}

// retire disconnects the client for good and closes its episodes.
func (sc *soakClient) retire() {
	sc.mu.Lock()
	if sc.retired {
		sc.mu.Unlock()
		return
	}
	sc.retired = true
	for ch, ep := range sc.cur {
		delete(sc.cur, ch)
		sc.closeEp(ep)
	}
	sc.mu.Unlock()
	sc.c.Disconnect()
	sc.r.n.retired.Add(1)
}

func (sc *soakClient) onState(prev, cur wasmclient.State) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	switch {
	case cur == wasmclient.StateConnected:
		sc.up = true
		sc.r.n.connects.Add(1)
	case prev == wasmclient.StateConnected:
		sc.up = false
		sc.r.n.disconnects.Add(1)
		if !sc.retired {
			sc.drops++
			sc.r.n.drops.Add(1)
		}
	}
}

func (sc *soakClient) onError(err error) {
	code := -1
	if pe, ok := err.(*wasmclient.ProtocolError); ok {
		code = pe.Code
	}
	sc.mu.Lock()
	sc.errCodes[code]++
	sc.mu.Unlock()
	if code != -1 {
		sc.r.noteError(code, err)
	}
}

func (sc *soakClient) onEvent(e wasmclient.Event) {
	if e.Channel == "" {
		return // pusher:error frames also reach onError
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	ep := sc.cur[e.Channel]
	if ep == nil {
		return
	}
	switch e.Name {
	case "pusher:subscription_succeeded":
		if ep.okAt.IsZero() {
			ep.okAt = time.Now()
			if ep.pres {
				sc.r.n.presJoins.Add(1)
			}
		}
	case "pusher:subscription_error":
		ep.subErrs++
		sc.r.n.subErrs.Add(1)
		sc.r.noteSubError(e.Channel, e.Data)
		if ep.okAt.IsZero() && !sc.retired {
			go sc.retrySubscribe(ep) // as an app would: try again a moment later
		}
	case "pusher:recovery_failed":
		if !ep.recovery {
			ep.recovery = true
			sc.r.n.recoveryFailed.Add(1)
		}
	case "soak":
		sc.r.n.deliveries.Add(1)
		if ep.okAt.IsZero() {
			ep.early++
			return
		}
		n, err := strconv.ParseUint(e.Data, 10, 32)
		if err != nil || n == 0 {
			ep.bogus++
			return
		}
		ep.recv = append(ep.recv, uint32(n))
	case "client-msg":
		sc.r.n.cevReceived.Add(1)
		from, num, ok := strings.Cut(strings.Trim(e.Data, `"\`), ":")
		f, err1 := strconv.Atoi(from)
		n, err2 := strconv.ParseUint(num, 10, 32)
		if !ok || err1 != nil || err2 != nil {
			ep.bogus++
			return
		}
		ep.cev[f] = append(ep.cev[f], uint32(n))
	}
}

func (sc *soakClient) retrySubscribe(ep *soakEp) {
	time.Sleep(time.Second + rand.N(time.Second))
	sc.mu.Lock()
	same := !sc.retired && sc.cur[ep.ch] == ep && ep.okAt.IsZero()
	sc.mu.Unlock()
	if !same {
		return
	}
	sc.r.n.subRetries.Add(1)
	sc.unsubscribe(ep.ch)
	sc.subscribe(ep.ch)
}

// sendClientEvent sends the next numbered client event on the pair channel
// when the subscription is confirmed.
func (sc *soakClient) sendClientEvent() {
	ch := sc.c.Channel(pairChannel(sc.pair))
	if ch == nil || !ch.Subscribed() || sc.c.State() != wasmclient.StateConnected {
		return
	}
	sc.mu.Lock()
	sc.cevN++
	n := sc.cevN
	sc.cevSent = append(sc.cevSent, cevSend{at: time.Now().UnixNano()})
	sc.mu.Unlock()
	err := ch.Trigger("client-msg", strconv.Quote(strconv.Itoa(sc.id)+":"+strconv.Itoa(n)))
	sc.mu.Lock()
	sc.cevSent[n-1].ok = err == nil
	sc.mu.Unlock()
	if err == nil {
		sc.r.n.cevSent.Add(1)
	} else {
		sc.r.n.cevSendErrs.Add(1)
	}
}

// isUp reports whether the client is connected and not retired.
func (sc *soakClient) isUp() bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.up && !sc.retired
}
