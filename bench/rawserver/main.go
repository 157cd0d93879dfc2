// Command rawserver is the ceiling Pushd is measured against: a bare gws
// broadcast server with no Pusher protocol beyond what pushbench needs, no
// NATS, no storage and no checks. It accepts /app/{key} sockets, answers
// pusher:subscribe with subscription_succeeded, relays client events, and
// broadcasts the frame of POST /apps/{id}/events (and batch_events) to the
// channel's sockets, one gws WriteMessage per socket from one goroutine per
// channel.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/internal/gws"
)

func main() {
	wsAddr := flag.String("ws-addr", "127.0.0.1:3131", "WebSocket listen address")
	apiAddr := flag.String("api-addr", "127.0.0.1:3232", "HTTP API listen address")
	readBuf := flag.Int("read-buffer", 0, "gws ReadBufferSize (0: gws default, 4096)")
	parallel := flag.Bool("parallel", false, "gws ParallelEnabled with ParallelGolimit 1")
	flag.Parse()

	h := &hub{channels: map[string]*channel{}}
	up := gws.NewUpgrader(h, &gws.ServerOption{
		ReadBufferSize:  *readBuf,
		ParallelEnabled: *parallel,
		ParallelGolimit: 1,
	})
	ws := http.NewServeMux()
	ws.HandleFunc("/app/", func(w http.ResponseWriter, r *http.Request) {
		socket, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		go socket.ReadLoop() // a fresh goroutine: the handler's stack is not kept
	})
	api := http.NewServeMux()
	api.HandleFunc("POST /apps/{id}/events", h.events)
	api.HandleFunc("POST /apps/{id}/batch_events", h.batch)
	api.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"status":"ok"}`) })
	go func() { log.Fatal(http.ListenAndServe(*apiAddr, api)) }()
	fmt.Fprintf(os.Stderr, "rawserver: ws %s api %s pid %d\n", *wsAddr, *apiAddr, os.Getpid())
	log.Fatal(http.ListenAndServe(*wsAddr, ws))
}

// channel holds its sockets as a copy-on-write slice: broadcasts read it
// without a lock, subscribes and unsubscribes copy it. Each channel has one
// goroutine that writes its frames in order, so the API answers as soon as
// an event is queued, as Pushd answers once it is stored.
type channel struct {
	socks atomic.Pointer[[]*gws.Conn]
	queue chan outgoing
}

type outgoing struct {
	frame  []byte
	except *gws.Conn
}

func (ch *channel) loop() {
	for o := range ch.queue {
		socks := *ch.socks.Load()
		// A large channel is written by one goroutine per CPU, each over its
		// own slice of sockets; the next frame waits, so order holds.
		parts := 1
		if len(socks) >= 512 {
			parts = runtime.GOMAXPROCS(0)
		}
		var wg sync.WaitGroup
		for p := range parts {
			wg.Go(func() {
				for _, s := range socks[p*len(socks)/parts : (p+1)*len(socks)/parts] {
					if s != o.except {
						_ = s.WriteMessage(gws.OpcodeText, o.frame)
					}
				}
			})
		}
		wg.Wait()
	}
}

type hub struct {
	mu       sync.Mutex // guards channels and every copy-on-write
	channels map[string]*channel
	ids      atomic.Int64
}

// state is a socket's session: the channels it is in.
type state struct {
	mu       sync.Mutex
	channels map[string]bool
}

func (h *hub) get(name string) *channel {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.channels[name]
}

func (h *hub) add(name string, c *gws.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := h.channels[name]
	if ch == nil {
		ch = &channel{queue: make(chan outgoing, 4096)}
		ch.socks.Store(&[]*gws.Conn{})
		h.channels[name] = ch
		go ch.loop()
	}
	old := *ch.socks.Load()
	next := make([]*gws.Conn, len(old), len(old)+1)
	copy(next, old)
	next = append(next, c)
	ch.socks.Store(&next)
}

func (h *hub) remove(name string, c *gws.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := h.channels[name]
	if ch == nil {
		return
	}
	old := *ch.socks.Load()
	next := make([]*gws.Conn, 0, len(old))
	for _, s := range old {
		if s != c {
			next = append(next, s)
		}
	}
	ch.socks.Store(&next)
}

func (h *hub) broadcast(name string, frame []byte, except *gws.Conn) {
	ch := h.get(name)
	if ch == nil {
		return
	}
	ch.queue <- outgoing{frame, except}
}

func (h *hub) OnOpen(c *gws.Conn) {
	c.Session().Store("s", &state{channels: map[string]bool{}})
	id := h.ids.Add(1)
	_ = c.WriteMessage(gws.OpcodeText, protocol.ConnectionEstablished(strconv.FormatInt(id, 10)+".1", 120))
}

func (h *hub) OnClose(c *gws.Conn, _ error) {
	v, _ := c.Session().Load("s")
	st := v.(*state)
	st.mu.Lock()
	defer st.mu.Unlock()
	for name := range st.channels {
		h.remove(name, c)
	}
}

func (h *hub) OnPing(c *gws.Conn, p []byte) { _ = c.WritePong(p) }
func (h *hub) OnPong(*gws.Conn, []byte)     {}

func (h *hub) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	f, err := protocol.ParseFrame(m.Bytes())
	if err != nil {
		return
	}
	switch {
	case f.Event == "pusher:ping":
		_ = c.WriteMessage(gws.OpcodeText, protocol.PongFrame)
	case f.Event == "pusher:subscribe", f.Event == "pusher:unsubscribe":
		var d protocol.SubscribeData
		if protocol.DecodeData(f.Data, &d) != nil || d.Channel == "" {
			return
		}
		v, _ := c.Session().Load("s")
		st := v.(*state)
		st.mu.Lock()
		defer st.mu.Unlock()
		if f.Event == "pusher:unsubscribe" {
			if st.channels[d.Channel] {
				delete(st.channels, d.Channel)
				h.remove(d.Channel, c)
			}
			return
		}
		if !st.channels[d.Channel] {
			st.channels[d.Channel] = true
			h.add(d.Channel, c)
		}
		data := ""
		if strings.HasPrefix(d.Channel, "presence-") {
			data = `{"presence":{"ids":[],"hash":{},"count":0}}`
		}
		_ = c.WriteMessage(gws.OpcodeText, protocol.SubscriptionSucceeded(d.Channel, data))
	case strings.HasPrefix(f.Event, "client-"):
		h.broadcast(f.Channel, append([]byte(nil), m.Bytes()...), c)
	}
}

// event is one event of the HTTP API.
type event struct {
	Name     string   `json:"name"`
	Channel  string   `json:"channel"`
	Channels []string `json:"channels"`
	Data     string   `json:"data"`
}

func (h *hub) publish(e event) {
	if e.Channel != "" {
		e.Channels = append(e.Channels, e.Channel)
	}
	for _, ch := range e.Channels {
		h.broadcast(ch, protocol.EventFrame(e.Name, ch, e.Data, ""), nil)
	}
}

func (h *hub) events(w http.ResponseWriter, r *http.Request) {
	var e event
	if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
		http.Error(w, `{"error":"bad body"}`, http.StatusBadRequest)
		return
	}
	h.publish(e)
	io.WriteString(w, "{}")
}

func (h *hub) batch(w http.ResponseWriter, r *http.Request) {
	var b struct{ Batch []event }
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		http.Error(w, `{"error":"bad body"}`, http.StatusBadRequest)
		return
	}
	for _, e := range b.Batch {
		h.publish(e)
	}
	io.WriteString(w, "{}")
}
