package gateway

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/internal/gws"
	"github.com/pushd/pushd/internal/ratelimit"
)

// client is one WebSocket connection speaking the Pusher protocol.
type client struct {
	gw       *Gateway
	appPtr   atomic.Pointer[app] // swapped when the config is reloaded
	ws       *gws.Conn
	socketID string
	out      outbox
	rp       atomic.Pointer[replays] // resumes waiting or running; made by the first resume

	opened     int64        // unix nanos of the connection
	resumable  bool         // a Pushd client: gets stream positions
	authorized atomic.Bool  // signed in, or subscribed to a private channel
	lastSeen   atomic.Int64 // unix nanos of the last frame from the client
	pingSent   atomic.Int64 // unix nanos of an unanswered server ping, or 0
	closed     atomic.Bool

	// Owned by the goroutine that handles this client's frames (gws runs
	// them one at a time per connection).
	clientEvents ratelimit.Bucket

	mu        sync.Mutex
	subs      subSet   // by channel name
	userID    string   // set by pusher:signin
	watchlist []string // user ids this connection watches
}

// app returns the client's app with its current settings.
func (c *client) app() *app { return c.appPtr.Load() }

// send queues a frame; a client that cannot keep up is disconnected.
func (c *client) send(frame []byte) {
	m := c.app().Metrics
	m.BytesOut.Add(float64(len(frame)))
	if !c.out.push(c.ws, frame) {
		m.SlowConsumers.Inc()
		// Free the queue now and give the blocked writer little time left:
		// a slow socket must not hold megabytes until its write deadline.
		c.out.discard()
		_ = c.ws.SetWriteDeadline(time.Now().Add(time.Second))
		c.gw.log.Warn("slow consumer disconnected", slog.String("app", c.app().Key), slog.String("socket_id", c.socketID))
		c.fail(protocol.CodeOverCapacity, "slow consumer: the client read too slowly and too many frames queued; reconnect and subscribe to fewer channels")
	}
}

// fail sends a pusher:error frame and then closes with the same code.
func (c *client) fail(code int, msg string) {
	if c.closed.Swap(true) {
		return
	}
	c.gw.logs.closing(c, code, msg)
	c.out.push(c.ws, protocol.ErrorFrame(code, msg))
	c.out.closeAfter(c.ws, uint16(code), msg)
}

// errorFrame reports a problem with a frame (about channel ch, or "")
// without closing, and logs it as a refusal.
func (c *client) errorFrame(code int, ch, msg string) {
	c.send(protocol.ErrorFrame(code, msg))
	c.gw.logs.frameRefused(c, code, ch, msg)
}

func (c *client) user() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.userID
}
