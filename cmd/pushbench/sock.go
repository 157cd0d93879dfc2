package main

import (
	"bytes"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/internal/gws"
)

// Roles a socket plays in a run.
const (
	roleSub      uint8 = iota // subscribes to a channel and checks the events it receives
	rolePinger                // clientevents: sends client-ping, times the client-pong
	rolePonger                // clientevents: answers each client-ping with a client-pong
	roleObserver              // presence: stays a member, counts member_added / member_removed
	roleChurner               // presence: joins and leaves over and over
)

// Socket states.
const (
	stDialing int32 = iota
	stConnected
	stReady   // subscribed (or connected, for roles that subscribe later)
	stJoining // churner: subscribe sent
	stMember  // churner: subscribed, waiting to leave
	stFailed
	stClosed
)

// sock is one client connection. Everything but state and joinSent is used
// by the socket's own read goroutine only (gws runs OnMessage on it).
type sock struct {
	w        *worker
	conn     *gws.Conn
	g        int32 // global index of the socket in the run
	ch       int32 // index of the channel in w.names
	role     uint8
	state    atomic.Int32
	joinSent atomic.Int64 // churner: unix ns the pending subscribe was sent
	sub      []byte       // the subscribe frame (per channel for public channels)
	seen     []uint64     // bitset of sequence numbers received
	maxSeq   uint32
}

func (s *sock) OnOpen(*gws.Conn)             {}
func (s *sock) OnPing(c *gws.Conn, p []byte) { _ = c.WritePong(p) }
func (s *sock) OnPong(*gws.Conn, []byte)     {}
func (s *sock) OnClose(c *gws.Conn, err error) {
	for {
		st := s.state.Load()
		if st == stFailed || st == stClosed {
			return
		}
		next := stClosed
		if st == stDialing || (st == stConnected && s.role != roleChurner) {
			next = stFailed
		}
		if s.state.CompareAndSwap(st, next) {
			if next == stFailed {
				s.w.fail("closed before subscribed: " + errText(err))
			} else if !s.w.closing.Load() {
				s.w.disconnects.Add(1)
				s.w.note("disconnected: " + errText(err))
			}
			return
		}
	}
}

func errText(err error) string {
	if err == nil {
		return "closed"
	}
	return err.Error()
}

var pongFrame = []byte(`{"event":"pusher:pong","data":"{}"}`)

func (s *sock) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	b := m.Bytes()
	switch string(field(b, `"event":"`)) {
	case "pusher:connection_established":
		s.onConnected(c, b)
	case "pusher_internal:subscription_succeeded":
		s.onSubscribed(c)
	case "pusher:ping":
		_ = c.WriteMessage(gws.OpcodeText, pongFrame)
	case "pusher:error", "pusher:subscription_error":
		if st := s.state.Load(); st == stDialing || st == stConnected && s.role != roleChurner {
			if s.state.CompareAndSwap(st, stFailed) {
				s.w.fail(string(b))
				c.NetConn().Close()
				return
			}
		}
		s.w.errorFrames.Add(1)
		s.w.note(string(b))
	case "pusher_internal:member_added":
		if s.role == roleObserver { // churners see each other too: count one view per channel
			s.w.memberAdded.Add(1)
		}
	case "pusher_internal:member_removed":
		if s.role == roleObserver {
			s.w.memberRemoved.Add(1)
		}
	case "pusher:pong", "pusher:cache_miss", "pusher:signin_success":
	case "client-ping":
		s.onPing(c, b)
	default:
		s.onEvent(b)
	}
}

// field returns the bytes after key up to the next quote.
func field(b []byte, key string) []byte {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return nil
	}
	b = b[i+len(key):]
	if j := bytes.IndexByte(b, '"'); j >= 0 {
		return b[:j]
	}
	return nil
}

// number parses the decimal digits after key.
func number(b []byte, key string) (uint64, bool) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return 0, false
	}
	var n uint64
	ok := false
	for _, c := range b[i+len(key):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + uint64(c-'0')
		ok = true
	}
	return n, ok
}

func (s *sock) onConnected(c *gws.Conn, b []byte) {
	if !s.state.CompareAndSwap(stDialing, stConnected) {
		return
	}
	w := s.w
	// data is a JSON string: {\"socket_id\":\"1.2\",...}
	sid := string(field(b, `socket_id\":\"`))
	if i := bytes.IndexByte([]byte(sid), '\\'); i >= 0 {
		sid = sid[:i]
	}
	switch s.role {
	case roleSub:
		if s.sub == nil { // connect mode without channels
			s.ready()
			return
		}
	case rolePinger, rolePonger:
		ch := w.names[s.ch]
		s.sub = subscribeFrame(ch, protocol.ChannelAuth(w.cfg.Key, w.cfg.Secret, sid, ch, ""), "")
	case roleObserver, roleChurner:
		ch := w.names[s.ch]
		data := `{"user_id":"u` + strconv.Itoa(int(s.g)) + `"}`
		s.sub = subscribeFrame(ch, protocol.ChannelAuth(w.cfg.Key, w.cfg.Secret, sid, ch, data), data)
		if s.role == roleChurner {
			s.ready()
			return
		}
	}
	if err := c.WriteMessage(gws.OpcodeText, s.sub); err != nil {
		s.state.Store(stFailed)
		w.fail("subscribe: " + err.Error())
	}
}

func (s *sock) ready() {
	if s.state.CompareAndSwap(stConnected, stReady) {
		s.w.ready.Add(1)
		s.w.lastReady.Store(time.Now().UnixNano())
	}
}

func (s *sock) onSubscribed(c *gws.Conn) {
	if s.role != roleChurner {
		s.ready()
		return
	}
	if !s.state.CompareAndSwap(stJoining, stMember) {
		return
	}
	now := time.Now().UnixNano()
	s.w.joinLat.add((now - s.joinSent.Load()) / 1000)
	s.w.joins.Add(1)
	leave := func() {
		if err := c.WriteMessage(gws.OpcodeText, unsubscribeFrame(s.w.names[s.ch])); err == nil {
			s.w.leaves.Add(1)
		}
		s.joinSent.Store(0)
		s.state.CompareAndSwap(stMember, stReady)
	}
	if stay := s.w.cfg.Stay; stay > 0 {
		time.AfterFunc(stay, leave)
	} else {
		leave()
	}
}

// onEvent checks one event: the payload carries t=<unix ns sent>;s=<seq>.
func (s *sock) onEvent(b []byte) {
	w := s.w
	w.delivered.Add(1)
	t, ok1 := number(b, `"data":"t=`)
	seq, ok2 := number(b, `;s=`)
	if !ok1 || !ok2 {
		w.foreign.Add(1)
		return
	}
	w.lat.add((time.Now().UnixNano() - int64(t)) / 1000)
	s.track(uint32(seq))
}

// track counts a sequence number as new, duplicate or out of order.
func (s *sock) track(seq uint32) {
	w := s.w
	word := int(seq / 64)
	if word >= len(s.seen) {
		n := max(word+1, int(w.seqHint/64)+1)
		s.seen = append(s.seen, make([]uint64, n-len(s.seen))...)
	}
	bit := uint64(1) << (seq % 64)
	if s.seen[word]&bit != 0 {
		w.dup.Add(1)
		return
	}
	s.seen[word] |= bit
	w.unique.Add(1)
	if seq < s.maxSeq {
		w.ooo.Add(1)
	} else {
		s.maxSeq = seq
	}
}

// onPing answers a client-ping with a client-pong carrying the same data;
// the pinger (the other socket of the pair) times the round trip.
func (s *sock) onPing(c *gws.Conn, b []byte) {
	if s.role != rolePonger {
		return
	}
	s.w.pings.Add(1)
	data := field(b, `"data":"`)
	f := make([]byte, 0, 96)
	f = append(f, `{"event":"client-pong","channel":`...)
	f = protocol.AppendJSONString(f, s.w.names[s.ch])
	f = append(f, `,"data":"`...)
	f = append(f, data...)
	f = append(f, `"}`...)
	_ = c.WriteMessage(gws.OpcodeText, f)
}

func subscribeFrame(channel, auth, channelData string) []byte {
	f := []byte(`{"event":"pusher:subscribe","data":{"channel":`)
	f = protocol.AppendJSONString(f, channel)
	if auth != "" {
		f = append(f, `,"auth":`...)
		f = protocol.AppendJSONString(f, auth)
	}
	if channelData != "" {
		f = append(f, `,"channel_data":`...)
		f = protocol.AppendJSONString(f, channelData)
	}
	return append(f, `}}`...)
}

func unsubscribeFrame(channel string) []byte {
	f := []byte(`{"event":"pusher:unsubscribe","data":{"channel":`)
	f = protocol.AppendJSONString(f, channel)
	return append(f, `}}`...)
}

// noSession is a gws.SessionStorage that stores nothing: the default one is
// a map per connection that pushbench never uses.
type noSession struct{}

func (noSession) Len() int                     { return 0 }
func (noSession) Load(string) (any, bool)      { return nil, false }
func (noSession) Delete(string)                {}
func (noSession) Store(string, any)            {}
func (noSession) Range(func(string, any) bool) {}
