package gateway

import (
	"context"
	"errors"
	"sync"

	"github.com/pushd/pushd/internal/gws"
)

// Outbox limits: a socket whose queue grows past them is a slow consumer
// and is closed with 4100 so that it reconnects later.
const (
	maxQueuedFrames = 4096
	maxQueuedBytes  = 8 << 20
)

// outbox is a socket's bounded write queue. A writer goroutine runs only
// while frames are queued, so an idle socket costs no goroutine.
type outbox struct {
	mu        sync.Mutex
	q         [][]byte
	bytes     int
	writing   bool
	closing   bool   // no more frames accepted
	closeCode uint16 // sent after the queue drains, when closing
	closeMsg  string
	// The batch the writer took and is writing.
	inflight, inflightBytes int
	// room is closed when the writer finished a batch (or the socket is
	// closing); nil while nobody waits for room.
	room chan struct{}
}

// push queues a frame; it returns false when the queue is full.
func (o *outbox) push(ws *gws.Conn, frame []byte) bool {
	o.mu.Lock()
	if o.closing {
		o.mu.Unlock()
		return true
	}
	if len(o.q) >= maxQueuedFrames || o.bytes+len(frame) > maxQueuedBytes {
		o.mu.Unlock()
		return false
	}
	o.q = append(o.q, frame)
	o.bytes += len(frame)
	start := !o.writing
	o.writing = true
	o.mu.Unlock()
	if start {
		go o.flush(ws)
	}
	return true
}

// discard drops every queued frame (a slow consumer about to be closed).
func (o *outbox) discard() {
	o.mu.Lock()
	o.q, o.bytes = nil, 0
	o.mu.Unlock()
}

// waitRoom blocks until no more than frames and bytes are queued or being
// written, and reports true then; false when the socket is closing or ctx
// ends first. Writers of long sequences (a resume) use it to keep the queue
// within the socket's budget.
func (o *outbox) waitRoom(ctx context.Context, frames, bytes int) bool {
	for {
		o.mu.Lock()
		if o.closing {
			o.mu.Unlock()
			return false
		}
		if len(o.q)+o.inflight <= frames && o.bytes+o.inflightBytes <= bytes {
			o.mu.Unlock()
			return true
		}
		if o.room == nil {
			o.room = make(chan struct{})
		}
		room := o.room
		o.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			return false
		}
	}
}

// wakeLocked tells waiters for room to look again; o.mu is held.
func (o *outbox) wakeLocked() {
	if o.room != nil {
		close(o.room)
		o.room = nil
	}
}

// shut accepts no more frames and wakes waiters (the socket closed).
func (o *outbox) shut() {
	o.mu.Lock()
	o.closing = true
	o.wakeLocked()
	o.mu.Unlock()
}

// closeAfter queues a close frame that follows everything queued so far.
func (o *outbox) closeAfter(ws *gws.Conn, code uint16, msg string) {
	o.mu.Lock()
	if o.closing {
		o.mu.Unlock()
		return
	}
	o.closing, o.closeCode, o.closeMsg = true, code, msg
	o.wakeLocked()
	start := !o.writing
	o.writing = true
	o.mu.Unlock()
	if start {
		go o.flush(ws)
	}
}

func (o *outbox) flush(ws *gws.Conn) {
	var batch [][]byte
	for {
		o.mu.Lock()
		o.inflight, o.inflightBytes = 0, 0
		o.wakeLocked()
		if len(o.q) == 0 {
			o.writing = false
			closing, code, msg := o.closing, o.closeCode, o.closeMsg
			o.closeCode = 0
			o.mu.Unlock()
			if closing && code != 0 {
				_ = ws.WriteClose(code, []byte(msg))
			}
			return
		}
		batch, o.q = o.q, batch[:0]
		o.inflight, o.inflightBytes = len(batch), o.bytes
		o.bytes = 0
		o.mu.Unlock()
		for i, f := range batch {
			if err := ws.WriteMessage(gws.OpcodeText, f); err != nil {
				// gws already closing (it is writing its close frame): leave
				// the socket to it; a real write failure ends the socket here.
				if !errors.Is(err, gws.ErrConnClosed) {
					_ = ws.NetConn().Close()
				}
				o.mu.Lock()
				o.closing, o.q, o.writing = true, nil, false
				o.inflight, o.inflightBytes = 0, 0
				o.wakeLocked()
				o.mu.Unlock()
				return
			}
			batch[i] = nil
		}
	}
}
