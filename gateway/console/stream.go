package console

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/api"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/internal/ratelimit"
)

// maxEntries is the most entries a second one stream sends its page of
// each of two kinds, the app's events and the rest (connections, channels,
// members, webhooks), so that a flood of events does not hide a connect;
// the others are counted as skipped. A page watching a busy app stays
// usable and the server writes a bounded amount to it.
const maxEntries = 100

// Kinds of entries, each with its own share of the second.
const (
	kindEvent = iota
	kindActivity
)

// maxRates is the most channels a second's rates name, the busiest.
const maxRates = 500

// maxFeedEntry bounds an entry read from the feed.
const maxFeedEntry = 16 << 10

// stream is one page's view of an app's stream: the entries it is sent
// and, for every channel, the events of the current second.
type stream struct {
	filter       string // a part of the channel names shown ("": all)
	withInternal bool   // show the server's own channels
	out          chan []byte

	mu      sync.Mutex
	limits  [2]ratelimit.Bucket // by kind
	counts  map[string]int      // events per channel this second
	skipped int
}

func newStream(filter string, withInternal bool) *stream {
	return &stream{filter: filter, withInternal: withInternal, out: make(chan []byte, 256), counts: map[string]int{}}
}

// shows reports whether an entry about channels chs (none: about no
// channel) is for this stream.
func (s *stream) shows(chs ...string) bool {
	if len(chs) == 0 {
		return s.filter == ""
	}
	for _, ch := range chs {
		if (s.withInternal || !internal(ch)) && (s.filter == "" || strings.Contains(ch, s.filter)) {
			return true
		}
	}
	return false
}

// offer sends the entry build makes, unless the stream does not show it
// or has sent its share of the second for the entry's kind (then it is
// counted as skipped). It never blocks: it is called from NATS's and the
// presence watcher's goroutines.
func (s *stream) offer(kind int, chs []string, build func() []byte) {
	if !s.shows(chs...) {
		return
	}
	s.mu.Lock()
	ok := s.limits[kind].Allow(time.Now(), maxEntries)
	if !ok {
		s.skipped++
	}
	s.mu.Unlock()
	if !ok {
		return
	}
	b := build()
	if b == nil {
		return
	}
	select {
	case s.out <- b:
	default:
		s.mu.Lock()
		s.skipped++
		s.mu.Unlock()
	}
}

// eventEntry is an event of the app as the page shows it.
type eventEntry struct {
	Type     string `json:"type"` // event, or client_event
	Channel  string `json:"channel"`
	Event    string `json:"event"`
	Data     string `json:"data"`
	UserID   string `json:"user_id,omitempty"`
	Seq      uint64 `json:"seq,omitempty"`
	Internal bool   `json:"internal,omitempty"`
	TimeMS   int64  `json:"time_ms"`
}

// delivery counts an event of the app (every node's, as the stream
// republishes it) and offers it.
func (s *stream) delivery(d bus.Delivery) {
	s.mu.Lock()
	s.counts[d.Channel]++
	s.mu.Unlock()
	s.offer(kindEvent, []string{d.Channel}, func() []byte {
		f, err := protocol.ParseFrame(d.Frame)
		if err != nil {
			return nil
		}
		e := eventEntry{Type: "event", Channel: d.Channel, Event: f.Event, UserID: f.UserID, Seq: d.Seq,
			Internal: internal(d.Channel), TimeMS: time.Now().UnixMilli()}
		if strings.HasPrefix(f.Event, "client-") {
			e.Type = "client_event"
		}
		e.Data, _ = protocol.DataString(f.Data)
		b, _ := json.Marshal(e)
		return b
	})
}

// feedEntry offers an entry of the app's feed (a connection, a webhook
// attempt) that some node sent.
func (s *stream) feedEntry(data []byte) {
	if len(data) == 0 || len(data) > maxFeedEntry || data[0] != '{' {
		return
	}
	var about struct {
		Channel  string   `json:"channel"`
		Channels []string `json:"channels"`
	}
	if json.Unmarshal(data, &about) != nil {
		return
	}
	if about.Channel != "" {
		about.Channels = append(about.Channels, about.Channel)
	}
	s.offer(kindActivity, about.Channels, func() []byte { return data })
}

// rates returns the second's events per channel (the busiest maxRates)
// and how many entries were skipped, and starts the next second.
func (s *stream) rates() []byte {
	s.mu.Lock()
	counts, skipped := s.counts, s.skipped
	s.counts, s.skipped = make(map[string]int, len(counts)), 0
	s.mu.Unlock()
	if len(counts) > maxRates {
		names := make([]string, 0, len(counts))
		for n := range counts {
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool { return counts[names[i]] > counts[names[j]] })
		for _, n := range names[maxRates:] {
			delete(counts, n)
		}
	}
	b, _ := json.Marshal(map[string]any{"type": "rates", "channels": counts, "skipped": skipped, "time_ms": time.Now().UnixMilli()})
	return b
}

// events streams the app's entries to a page as Server-Sent Events (the
// page reads them with fetch, which can send its credentials):
// ?channel= keeps the entries about channels whose names contain it,
// ?internal=1 adds those of the server's own channels. Each second brings
// the events per channel and the count of entries skipped over the
// second's share; every few seconds the nodes are told that a console
// still watches the app (bus.ControlWatch).
func (c *Console) events(w http.ResponseWriter, r *http.Request, a *apps.App, _ login) {
	fl, ok := w.(http.Flusher)
	if !ok {
		api.WriteError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	q := r.URL.Query()
	s := newStream(q.Get("channel"), q.Get("internal") == "1")
	stopTap, err := c.d.Broker.Tap(a.Key, s.delivery)
	if err != nil {
		api.WriteError(w, http.StatusServiceUnavailable, "cannot watch events: "+err.Error())
		return
	}
	defer stopTap()
	stopFeed, err := c.d.Broker.TapControl(a.Key, bus.ControlFeed, s.feedEntry)
	if err != nil {
		api.WriteError(w, http.StatusServiceUnavailable, "cannot watch the feed: "+err.Error())
		return
	}
	defer stopFeed()
	c.watchers.add(a.Key, s)
	defer c.watchers.remove(a.Key, s)
	watch := func() { _ = c.d.Broker.PublishControl(a.Key, bus.ControlWatch, nil) }
	watch()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	hello, _ := json.Marshal(map[string]any{"type": "watching", "app": a.Key, "node": c.d.NodeName, "time_ms": time.Now().UnixMilli()})
	send := func(b []byte) {
		w.Write([]byte("data: "))
		w.Write(b)
		w.Write([]byte("\n\n"))
		fl.Flush()
	}
	send(hello)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	renew := int(bus.WatchFor / time.Second / 3)
	for n := 1; ; n++ {
		select {
		case <-r.Context().Done():
			return
		case b := <-s.out:
			send(b)
		case <-tick.C:
			send(s.rates())
			if n%renew == 0 {
				watch()
			}
		}
	}
}
