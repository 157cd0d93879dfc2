package wasmclient

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
)

// State is the state of a Client's connection, named as push.js names it.
type State string

// Connection states. A Client starts initialized, is connecting while it
// dials, connected once the server confirmed, disconnected after a loss
// (it reconnects unless Disconnect was called) and failed when the server
// refused it for good (close codes 4000-4099).
const (
	StateInitialized  State = "initialized"
	StateConnecting   State = "connecting"
	StateConnected    State = "connected"
	StateDisconnected State = "disconnected"
	StateFailed       State = "failed"
)

// Errors callers branch on.
var (
	ErrNotClientEvent   = errors.New("client event names must start with client-")
	ErrPublicChannel    = errors.New("client events need a private or presence channel")
	ErrEncryptedTrigger = errors.New("client events are not supported on encrypted channels")
	ErrNoAuthorizer     = errors.New("no Authorizer for a channel that needs auth")
	ErrNotConnected     = errors.New("not connected")
	errNoAuth           = errors.New("auth answer without auth")
)

// Event is one event delivered to a handler.
type Event struct {
	Name    string
	Channel string
	// Data is the event's data as text: the JSON the app sent (decrypted
	// on encrypted channels); for pusher:subscription_succeeded on a
	// presence channel the {"presence":…} object, for member events
	// {"user_id","user_info"}, for errors {"code","message"}.
	Data   string
	UserID string // sender of a client event on a presence channel, or the member
	Seq    uint64 // Pushd's stream position, 0 for events that have none
}

// Handler receives events. Handlers run one at a time, in the order the
// events arrived.
type Handler func(Event)

// Binding identifies a bound handler for Unbind.
type Binding uint64

// ProtocolError is a pusher:error frame or an unexpected close.
type ProtocolError struct {
	Code    int
	Message string
}

func (e *ProtocolError) Error() string {
	return "pusher error " + strconv.Itoa(e.Code) + ": " + e.Message
}

// Options configure a Client. Only URL and Key are required.
type Options struct {
	// URL is the server's WebSocket base, e.g. "ws://127.0.0.1:3131"; the
	// client connects to URL + "/app/" + Key.
	URL string
	Key string
	// Authorizer signs private, encrypted and presence subscriptions.
	Authorizer Authorizer
	// UserAuthenticator signs Signin.
	UserAuthenticator UserAuthenticator
	// Transport defaults to gws natively and WebSocket in a browser.
	Transport Transport
	// ActivityTimeout is the silence after which the client sends
	// pusher:ping; the server's activity_timeout is used when it is
	// shorter or this is 0.
	ActivityTimeout time.Duration
	// PongTimeout is how long to wait for any frame after a ping before
	// reconnecting (default 30 s).
	PongTimeout time.Duration
	// MinBackoff and MaxBackoff bound the delay between reconnect attempts
	// (defaults 1 s and 10 s); each delay has random jitter.
	MinBackoff, MaxBackoff time.Duration
	// DialTimeout bounds the handshake up to connection_established and
	// each auth request (default 10 s).
	DialTimeout time.Duration
	// OnStateChange is called on every state change.
	OnStateChange func(previous, current State)
	// OnError receives pusher:error frames, auth and decryption failures.
	OnError func(error)
	// ClientName is the "client" query parameter (default "pushd-go").
	ClientName string
}

// Client is a connection to a Pusher-protocol server with its channels.
// Its methods are safe for concurrent use.
type Client struct {
	opts Options

	mu        sync.Mutex
	state     State
	sess      *session
	socketID  string
	prevID    string // socket id of the last connection, for resume
	stop      chan struct{}
	channels  map[string]*Channel
	global    bindings
	user      *Channel // #server-to-user-{id} once signed in
	signin    bool
	handlerMu sync.Mutex // one handler at a time
}

// New returns a Client; call Connect to start it.
func New(opts Options) *Client {
	if opts.PongTimeout <= 0 {
		opts.PongTimeout = 30 * time.Second
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = 10 * opts.MinBackoff
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 10 * time.Second
	}
	if opts.ClientName == "" {
		opts.ClientName = "pushd-go"
	}
	if opts.Transport == nil {
		opts.Transport = defaultTransport()
	}
	c := &Client{opts: opts, state: StateInitialized, channels: map[string]*Channel{}}
	c.user = &Channel{c: c, kind: protocol.ServerToUser}
	return c
}

// Connect starts connecting in the background and keeps the connection up
// until Disconnect. Calling it while running does nothing.
func (c *Client) Connect() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil {
		return
	}
	c.stop = make(chan struct{})
	go c.loop(c.stop)
}

// Disconnect closes the connection and stops reconnecting. Subscriptions
// are kept: a later Connect subscribes them again.
func (c *Client) Disconnect() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil {
		close(c.stop)
		c.stop = nil
	}
}

// State returns the connection state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// SocketID returns the socket id of the current connection ("" when not
// connected).
func (c *Client) SocketID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.socketID
}

// Bind calls fn for every event named event on any channel and for
// connection-level events (pusher:error, pusher:signin_success); "" binds
// every event.
func (c *Client) Bind(event string, fn Handler) Binding {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.global.add(event, fn)
}

// Unbind removes handlers bound with Bind: the given ones, or all of event
// when none are given ("" and none: every handler).
func (c *Client) Unbind(event string, ids ...Binding) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.global.remove(event, ids)
}

// BindUser calls fn for events sent to the signed-in user (sendToUser).
func (c *Client) BindUser(event string, fn Handler) Binding { return c.user.Bind(event, fn) }

// UnbindUser removes handlers bound with BindUser.
func (c *Client) UnbindUser(event string, ids ...Binding) { c.user.Unbind(event, ids...) }

// Signin signs the connection in as a user with the UserAuthenticator,
// now and after every reconnect.
func (c *Client) Signin() error {
	if c.opts.UserAuthenticator == nil {
		return errors.New("signin: no UserAuthenticator")
	}
	c.mu.Lock()
	c.signin = true
	s := c.sess
	connected := c.state == StateConnected
	c.mu.Unlock()
	if connected {
		go c.sendSignin(s)
	}
	return nil
}

// Subscribe subscribes to a channel, or returns the channel if already
// subscribed. It returns at once; bind pusher:subscription_succeeded and
// pusher:subscription_error to learn the outcome.
func (c *Client) Subscribe(name string) *Channel {
	c.mu.Lock()
	if ch, ok := c.channels[name]; ok {
		c.mu.Unlock()
		return ch
	}
	ch := &Channel{c: c, name: name, kind: protocol.KindOf(name)}
	c.channels[name] = ch
	s := c.sess
	connected := c.state == StateConnected
	c.mu.Unlock()
	if connected {
		c.subscribe(s, ch)
	}
	return ch
}

// Channel returns a subscribed channel, or nil.
func (c *Client) Channel(name string) *Channel {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.channels[name]
}

// Channels returns every subscribed channel.
func (c *Client) Channels() []*Channel {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Channel, 0, len(c.channels))
	for _, ch := range c.channels {
		out = append(out, ch)
	}
	return out
}

// Unsubscribe leaves a channel.
func (c *Client) Unsubscribe(name string) {
	c.mu.Lock()
	ch, ok := c.channels[name]
	delete(c.channels, name)
	s := c.sess
	connected := c.state == StateConnected
	c.mu.Unlock()
	if ok && connected {
		ch.mu().Lock()
		ch.subscribed = false
		ch.mu().Unlock()
		s.send(protocol.UnsubscribeFrame(name))
	}
}

// UnsubscribeAll leaves every channel.
func (c *Client) UnsubscribeAll() {
	for _, ch := range c.Channels() {
		c.Unsubscribe(ch.name)
	}
}

// loop connects, runs the connection and reconnects until stop closes.
func (c *Client) loop(stop chan struct{}) {
	attempt := 0
	for {
		select {
		case <-stop:
			c.setState(StateDisconnected)
			return
		default:
		}
		c.setState(StateConnecting)
		s := &session{c: c, wake: make(chan struct{}, 1)}
		s.ctx, s.cancel = context.WithCancel(context.Background())
		go func(s *session) { // Disconnect also aborts a dial or an auth request
			select {
			case <-stop:
				s.cancel()
			case <-s.ctx.Done():
			}
		}(s)
		code, reason := c.dial(s)
		if code == 0 {
			code, reason = s.run(stop)
		}
		s.cancel()
		c.mu.Lock()
		if s.socketID != "" {
			c.prevID = s.socketID
			attempt = 0
		}
		c.sess, c.socketID = nil, ""
		for _, ch := range c.channels {
			ch.subscribed = false
		}
		c.user.subscribed = false
		c.mu.Unlock()
		c.setState(StateDisconnected)
		select {
		case <-stop:
			return
		default:
		}
		if code >= 4000 && code < 4300 || code == codeLocal {
			c.emitError(&ProtocolError{Code: code, Message: reason})
		}
		delay, retry := c.backoff(code, attempt)
		if !retry {
			c.setState(StateFailed)
			c.mu.Lock()
			if c.stop == stop {
				c.stop = nil
			}
			c.mu.Unlock()
			return
		}
		attempt++
		t := time.NewTimer(delay)
		select {
		case <-stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Close codes that never come from a server.
const (
	codeDialFailed = 1
	codeLocal      = 2 // the client gave up: no pong, no handshake
	codeAbnormal   = 1006
)

// backoff returns the delay before reconnect attempt n after a close with
// code, following the Pusher ranges: 4000-4099 do not reconnect,
// 4100-4199 wait at least a second, 4200-4299 reconnect at once.
func (c *Client) backoff(code, n int) (time.Duration, bool) {
	if code >= 4000 && code < 4100 {
		return 0, false
	}
	min := c.opts.MinBackoff
	if code >= 4100 && code < 4200 && min < time.Second {
		min = time.Second
	}
	if n == 0 && !(code >= 4100 && code < 4200) {
		// The first retry goes at once, spread a little so that the
		// clients of a restarted server do not all arrive together.
		return rand.N(min/4 + 1), true
	}
	d := min
	for i := 1; i < n && d < c.opts.MaxBackoff; i++ {
		d *= 2
	}
	if d > c.opts.MaxBackoff {
		d = c.opts.MaxBackoff
	}
	return d/2 + rand.N(d/2+1), true
}

// dial opens the transport for s; it returns 0 or the code to give up with.
func (c *Client) dial(s *session) (int, string) {
	url := strings.TrimRight(c.opts.URL, "/") + "/app/" + c.opts.Key +
		"?protocol=7&client=" + c.opts.ClientName + "&version=" + Version
	ctx, cancel := context.WithTimeout(s.ctx, c.opts.DialTimeout)
	defer cancel()
	conn, err := c.opts.Transport.Dial(ctx, url, s.onMessage, s.onClose)
	if err != nil {
		c.emitError(err)
		return codeDialFailed, err.Error()
	}
	s.conn = conn
	c.mu.Lock()
	c.sess = s
	c.mu.Unlock()
	return 0, ""
}

// Version is sent as the "version" query parameter.
const Version = "0.1.0"

func (c *Client) setState(st State) {
	c.mu.Lock()
	prev := c.state
	c.state = st
	c.mu.Unlock()
	if prev != st && c.opts.OnStateChange != nil {
		c.handlerMu.Lock()
		defer c.handlerMu.Unlock()
		c.opts.OnStateChange(prev, st)
	}
}

func (c *Client) emitError(err error) {
	if c.opts.OnError != nil {
		c.opts.OnError(err)
	}
}

// dispatch calls the handlers of ch (may be nil) and the global ones.
func (c *Client) dispatch(ch *Channel, e Event) {
	c.mu.Lock()
	var fns []Handler
	if ch != nil {
		fns = ch.bindings.match(e.Name, fns)
	}
	fns = c.global.match(e.Name, fns)
	c.mu.Unlock()
	if len(fns) == 0 {
		return
	}
	c.handlerMu.Lock()
	defer c.handlerMu.Unlock()
	for _, fn := range fns {
		fn(e)
	}
}

// bindings is a list of handlers, guarded by Client.mu.
type bindings struct {
	next Binding
	list []binding
}

type binding struct {
	id    Binding
	event string
	fn    Handler
}

func (b *bindings) add(event string, fn Handler) Binding {
	b.next++
	b.list = append(b.list, binding{b.next, event, fn})
	return b.next
}

func (b *bindings) remove(event string, ids []Binding) {
	kept := b.list[:0]
	for _, x := range b.list {
		drop := false
		if len(ids) == 0 {
			drop = event == "" || x.event == event
		} else {
			for _, id := range ids {
				if x.id == id {
					drop = true
				}
			}
		}
		if !drop {
			kept = append(kept, x)
		}
	}
	clear(b.list[len(kept):])
	b.list = kept
}

func (b *bindings) match(event string, out []Handler) []Handler {
	for _, x := range b.list {
		if x.event == "" || x.event == event {
			out = append(out, x.fn)
		}
	}
	return out
}
