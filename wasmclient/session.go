package wasmclient

import (
	"context"
	"encoding/base64"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/nacl/secretbox"

	"github.com/pushd/pushd/gateway/protocol"
)

// session is one connection: the transport feeds its inbox and run handles
// frames, heartbeats and the end of the connection on one goroutine.
type session struct {
	c        *Client
	conn     Conn
	ctx      context.Context
	cancel   context.CancelFunc
	socketID string // set by connection_established (run's goroutine)
	activity time.Duration

	mu     sync.Mutex
	inbox  [][]byte
	closed bool
	code   int
	reason string
	wake   chan struct{}
}

// onMessage queues a frame; it never blocks (a browser calls it from the
// event loop).
func (s *session) onMessage(b []byte) {
	s.mu.Lock()
	s.inbox = append(s.inbox, b)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *session) onClose(code int, reason string) {
	s.mu.Lock()
	if !s.closed {
		s.closed, s.code, s.reason = true, code, reason
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *session) send(frame []byte) error {
	if s == nil || s.conn == nil {
		return ErrNotConnected
	}
	return s.conn.Send(frame)
}

// run handles the connection until it ends and returns its close code.
func (s *session) run(stop chan struct{}) (int, string) {
	timer := time.NewTimer(s.c.opts.DialTimeout)
	defer timer.Stop()
	pinged := false
	var batch [][]byte
	for {
		select {
		case <-stop:
			s.conn.Close(1000, "")
			return 1000, "disconnect"
		case <-timer.C:
			if pinged || s.socketID == "" {
				s.conn.Close(1000, "")
				if s.socketID == "" {
					return codeLocal, "no connection_established in time"
				}
				return codeLocal, "no pong in time"
			}
			pinged = true
			s.send(protocol.PingFrame)
			timer.Reset(s.c.opts.PongTimeout)
		case <-s.wake:
			s.mu.Lock()
			batch, s.inbox = s.inbox, batch[:0]
			closed, code, reason := s.closed, s.code, s.reason
			s.mu.Unlock()
			for i, b := range batch {
				s.c.handle(s, b)
				batch[i] = nil
			}
			if closed {
				return code, reason
			}
			if len(batch) > 0 && s.activity > 0 {
				pinged = false
				if !timer.Stop() {
					select {
					case <-timer.C:
					default:
					}
				}
				timer.Reset(s.activity)
			}
		}
	}
}

// handle acts on one frame from the server.
func (c *Client) handle(s *session, raw []byte) {
	e, err := protocol.ParseEvent(raw)
	if err != nil {
		c.emitError(err)
		return
	}
	switch e.Event {
	case "pusher:connection_established":
		c.established(s, e.Data)
		return
	case "pusher:ping":
		s.send(protocol.PongFrame)
		return
	case "pusher:pong":
		return
	case "pusher:error":
		pe := &ProtocolError{}
		protocol.ScanObject([]byte(e.Data), func(k string, v []byte) error {
			switch k {
			case "code":
				pe.Code, _ = strconv.Atoi(string(v))
			case "message":
				pe.Message, _ = protocol.ValueString(v)
			}
			return nil
		})
		c.emitError(pe)
		c.dispatch(nil, Event{Name: e.Event, Data: e.Data})
		return
	case "pusher:signin_success":
		c.signedIn(s, e.Data)
		c.dispatch(nil, Event{Name: e.Event, Data: e.Data})
		return
	}
	ev := Event{Name: e.Event, Channel: e.Channel, Data: e.Data, UserID: e.UserID, Seq: e.Seq}
	c.mu.Lock()
	ch := c.channels[e.Channel]
	if ch == nil && e.Channel != "" && e.Channel == c.user.name {
		ch = c.user
	}
	if ch == nil {
		c.mu.Unlock()
		if e.Channel == "" {
			c.dispatch(nil, ev)
		}
		return // a channel we left
	}
	var flush [][]byte
	switch e.Event {
	case "pusher_internal:subscription_succeeded":
		ev.Name = "pusher:subscription_succeeded"
		ch.subscribed = true
		if e.Seq != 0 && ch.lastSeq == 0 {
			// The server's position at subscription: resume from here if
			// the link drops before the channel's first event.
			ch.lastSeq = e.Seq
		}
		flush, ch.queue = ch.queue, nil
		if ch.kind == protocol.Presence {
			ch.members = parsePresence(e.Data)
		}
	case "pusher:subscription_error":
		ch.subscribed = false
	case "pusher:recovery_failed":
		// The events missed since lastSeq cannot all be replayed: the
		// position is dropped for the one the server continues from (none
		// when it gives none), so the next reconnect resumes from there.
		ch.lastSeq = e.Seq
	case "pusher_internal:member_added", "pusher_internal:member_removed":
		ev.Name = "pusher:" + e.Event[len("pusher_internal:"):]
		var id, info string
		protocol.ScanObject([]byte(e.Data), func(k string, v []byte) error {
			switch k {
			case "user_id":
				id, _ = protocol.ValueString(v)
			case "user_info":
				info = string(v)
			}
			return nil
		})
		ev.UserID = id
		if ch.members == nil {
			ch.members = map[string]string{}
		}
		if e.Event == "pusher_internal:member_added" {
			ch.members[id] = info
		} else {
			delete(ch.members, id)
		}
	default:
		if e.Seq != 0 {
			if e.Seq <= ch.lastSeq {
				c.mu.Unlock()
				return // already delivered before a reconnect
			}
			ch.lastSeq = e.Seq
		}
		if ch.key != nil && !isInternal(e.Event) {
			plain, err := decrypt(ch.key, e.Data)
			if err != nil {
				c.mu.Unlock()
				c.emitError(&ProtocolError{Message: "decrypt " + e.Event + " on " + e.Channel + ": " + err.Error()})
				return
			}
			ev.Data = plain
		}
	}
	c.mu.Unlock()
	for _, f := range flush {
		s.send(f)
	}
	c.dispatch(ch, ev)
}

func isInternal(event string) bool {
	return len(event) > 7 && (event[:7] == "pusher:" || len(event) > 16 && event[:16] == "pusher_internal:")
}

// established handles pusher:connection_established: it records the socket
// and subscribes every channel again, resuming where each one stopped.
func (c *Client) established(s *session, data string) {
	var activity int
	protocol.ScanObject([]byte(data), func(k string, v []byte) error {
		switch k {
		case "socket_id":
			s.socketID, _ = protocol.ValueString(v)
		case "activity_timeout":
			activity, _ = strconv.Atoi(string(v))
		}
		return nil
	})
	if s.socketID == "" {
		c.emitError(&ProtocolError{Message: "connection_established without socket_id"})
		return
	}
	s.activity = 120 * time.Second
	if activity > 0 {
		s.activity = time.Duration(activity) * time.Second
	}
	if a := c.opts.ActivityTimeout; a > 0 && a < s.activity {
		s.activity = a
	}
	c.mu.Lock()
	c.socketID = s.socketID
	chans := make([]*Channel, 0, len(c.channels))
	for _, ch := range c.channels {
		chans = append(chans, ch)
	}
	signin := c.signin
	c.mu.Unlock()
	c.setState(StateConnected)
	for _, ch := range chans {
		c.subscribe(s, ch)
	}
	if signin {
		go c.sendSignin(s)
	}
}

// subscribe sends pusher:subscribe for ch on s, with auth when the channel
// needs it (asked for on another goroutine) and the resume position.
func (c *Client) subscribe(s *session, ch *Channel) {
	if !ch.kind.NeedsAuth() {
		c.sendSubscribe(s, ch, protocol.SubscribeData{Channel: ch.name})
		return
	}
	go func() {
		d := protocol.SubscribeData{Channel: ch.name}
		err := ErrNoAuthorizer
		var a ChannelAuth
		if c.opts.Authorizer != nil {
			ctx, cancel := context.WithTimeout(s.ctx, c.opts.DialTimeout)
			a, err = c.opts.Authorizer.Authorize(ctx, s.socketID, ch.name)
			cancel()
		}
		var key *[32]byte
		if err == nil && ch.kind == protocol.Encrypted {
			key, err = sharedKey(a.SharedSecret)
		}
		if err != nil {
			if s.ctx.Err() != nil {
				return // the connection ended meanwhile
			}
			status := 0
			if se, ok := err.(statusError); ok {
				status = int(se)
			}
			c.emitError(err)
			data := `{"type":"AuthError","error":` + string(protocol.AppendJSONString(nil, err.Error())) +
				`,"status":` + strconv.Itoa(status) + `}`
			c.dispatch(ch, Event{Name: "pusher:subscription_error", Channel: ch.name, Data: data})
			return
		}
		d.Auth, d.ChannelData = a.Auth, a.ChannelData
		c.mu.Lock()
		ch.key = key
		if ch.kind == protocol.Presence {
			protocol.ScanObject([]byte(a.ChannelData), func(k string, v []byte) error {
				if k == "user_id" {
					ch.me, _ = protocol.ValueString(v)
				}
				return nil
			})
		}
		c.mu.Unlock()
		c.sendSubscribe(s, ch, d)
	}()
}

func (c *Client) sendSubscribe(s *session, ch *Channel, d protocol.SubscribeData) {
	c.mu.Lock()
	if c.channels[ch.name] != ch && ch != c.user || c.sess != s {
		c.mu.Unlock()
		return // left, or the connection ended, meanwhile
	}
	if ch.lastSeq > 0 {
		d.Resume, d.ResumeSocket = ch.lastSeq, c.prevID
	}
	c.mu.Unlock()
	s.send(protocol.SubscribeFrame(d))
}

func (c *Client) sendSignin(s *session) {
	ctx, cancel := context.WithTimeout(s.ctx, c.opts.DialTimeout)
	a, err := c.opts.UserAuthenticator.Authenticate(ctx, s.socketID)
	cancel()
	if err != nil {
		if s.ctx.Err() == nil {
			c.emitError(err)
		}
		return
	}
	s.send(protocol.SigninFrame(protocol.SigninData{Auth: a.Auth, UserData: a.UserData}))
}

// signedIn subscribes the user's own channel after pusher:signin_success.
func (c *Client) signedIn(s *session, data string) {
	var userData, id string
	protocol.ScanObject([]byte(data), func(k string, v []byte) error {
		if k == "user_data" {
			userData, _ = protocol.ValueString(v)
		}
		return nil
	})
	protocol.ScanObject([]byte(userData), func(k string, v []byte) error {
		if k == "id" {
			id, _ = protocol.ValueString(v)
		}
		return nil
	})
	if id == "" {
		return
	}
	c.mu.Lock()
	if c.user.name != protocol.ServerToUserPrefix+id {
		c.user.name, c.user.lastSeq = protocol.ServerToUserPrefix+id, 0
	}
	c.mu.Unlock()
	c.sendSubscribe(s, c.user, protocol.SubscribeData{Channel: c.user.name})
}

// parsePresence reads {"presence":{"ids":[…],"hash":{id:info},"count":N}}.
func parsePresence(data string) map[string]string {
	m := map[string]string{}
	protocol.ScanObject([]byte(data), func(k string, v []byte) error {
		if k != "presence" {
			return nil
		}
		return protocol.ScanObject(v, func(k string, v []byte) error {
			switch k {
			case "ids":
				protocol.ScanArray(v, func(id []byte) error {
					s, _ := protocol.ValueString(id)
					if _, ok := m[s]; !ok {
						m[s] = ""
					}
					return nil
				})
			case "hash":
				protocol.ScanObject(v, func(id string, info []byte) error {
					if string(info) != "null" {
						m[id] = string(info)
					} else if _, ok := m[id]; !ok {
						m[id] = ""
					}
					return nil
				})
			}
			return nil
		})
	})
	return m
}

func sharedKey(b64 string) (*[32]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != 32 {
		return nil, errBadSecret
	}
	var k [32]byte
	copy(k[:], raw)
	return &k, nil
}

// decrypt opens the {"ciphertext","nonce"} data of an encrypted channel.
func decrypt(key *[32]byte, data string) (string, error) {
	var ct, nonce string
	err := protocol.ScanObject([]byte(data), func(k string, v []byte) error {
		var err error
		switch k {
		case "ciphertext":
			ct, err = protocol.ValueString(v)
		case "nonce":
			nonce, err = protocol.ValueString(v)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	n, err1 := base64.StdEncoding.DecodeString(nonce)
	box, err2 := base64.StdEncoding.DecodeString(ct)
	if err1 != nil || err2 != nil || len(n) != 24 {
		return "", errBadCiphertext
	}
	var nn [24]byte
	copy(nn[:], n)
	plain, ok := secretbox.Open(nil, box, &nn, key)
	if !ok {
		return "", errBadCiphertext
	}
	return string(plain), nil
}

// Encrypt seals data for an encrypted channel as the server SDKs do, giving
// the {"ciphertext","nonce"} JSON to trigger. nonce must be 24 random bytes.
func Encrypt(key []byte, nonce *[24]byte, data string) string {
	var k [32]byte
	copy(k[:], key)
	box := secretbox.Seal(nil, []byte(data), nonce, &k)
	out := `{"ciphertext":` + string(protocol.AppendJSONString(nil, base64.StdEncoding.EncodeToString(box)))
	out += `,"nonce":` + string(protocol.AppendJSONString(nil, base64.StdEncoding.EncodeToString(nonce[:])))
	return out + "}"
}

var (
	errBadSecret     = &ProtocolError{Message: "shared_secret is not 32 bytes of base64"}
	errBadCiphertext = &ProtocolError{Message: "cannot decrypt the event"}
)
