package bus

import (
	"sort"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Limits of the recent-events window (see window).
const (
	// windowEvents is how many of a channel's latest events are kept.
	windowEvents = 1024
	// windowEntryBytes is what an entry costs besides its frame and exclude.
	windowEntryBytes = 64
	// windowChannels bounds the channels one shard's window tracks.
	windowChannels = 1 << 16
)

// window keeps the latest events of the channels one delivery shard serves,
// so that a resume of a few seconds of missed events reads no stream. Only
// the shard's goroutine adds; resumes read. A channel's entries are always
// contiguous: every stored event of the channel with a sequence in
// (from, last] is there, because the shard delivers each channel's events
// in stream order and fills gaps from the stream. The window of a channel
// is dropped when the node's interest in the channel ends (events after
// that would be missed), and channels are evicted least recently fed first
// when the window holds more than its bytes.
type window struct {
	mu       sync.Mutex
	chans    *simplelru.LRU[string, *recent] // by out subject
	bytes    int
	maxBytes int
}

// recent is one channel's latest events, in a ring.
type recent struct {
	app, channel string
	from         uint64 // no event of the channel after from is missing
	closed       bool   // the interest ended: never read, dropped soon
	ring         []entry
	head, n      int
	bytes        int
}

type entry struct {
	frame   []byte
	exclude string
	seq     uint64
}

func (e entry) size() int { return len(e.frame) + len(e.exclude) + windowEntryBytes }

// newWindow returns a window of at most maxBytes; nil when maxBytes <= 0
// (no window: every resume reads the stream).
func newWindow(maxBytes int) *window {
	if maxBytes <= 0 {
		return nil
	}
	w := &window{maxBytes: maxBytes}
	w.chans, _ = simplelru.NewLRU(windowChannels, func(_ string, r *recent) { w.bytes -= r.bytes })
	return w
}

// add records a delivered event of the channel at subject.
func (w *window) add(subject string, d Delivery) {
	if w == nil || d.Seq == 0 {
		return
	}
	e := entry{frame: d.Frame, exclude: d.Exclude, seq: d.Seq}
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.chans.Get(subject)
	if !ok {
		r = &recent{app: d.App, channel: d.Channel}
		w.chans.Add(subject, r)
	}
	if r.closed {
		return
	}
	if r.n > 0 {
		last := r.at(r.n - 1).seq
		if d.Seq <= last {
			return // already here
		}
		if d.Prev != last {
			// Not contiguous (a gap the shard could not fill): start over.
			w.bytes -= r.bytes
			r.head, r.n, r.bytes = 0, 0, 0
		}
	}
	if r.n == 0 {
		r.from = d.Prev
	}
	r.push(e)
	w.bytes += e.size()
	for r.n > windowEvents || r.n > 1 && r.bytes > w.maxBytes/4 {
		old := r.pop()
		r.from = old.seq
		w.bytes -= old.size()
	}
	for w.bytes > w.maxBytes {
		if _, _, ok := w.chans.RemoveOldest(); !ok {
			break
		}
	}
}

// close stops serving a channel whose interest is ending, at once: events
// stored from now on are not received, while deliveries already queued
// still come (the shard drops the channel after them).
func (w *window) close(subject string) {
	if w == nil {
		return
	}
	w.mu.Lock()
	if r, ok := w.chans.Peek(subject); ok {
		r.closed = true
	} else {
		// Deliveries still queued must not open a window either.
		w.chans.Add(subject, &recent{closed: true})
	}
	w.mu.Unlock()
}

// drop forgets a channel (the node's interest in it ended).
func (w *window) drop(subject string) {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.chans.Remove(subject)
	w.mu.Unlock()
}

// read returns the channel's events after from, at most n of them and
// about maxBytes (0: no limit), when the window holds every event after
// from; ok is false when it does not (the stream must be read).
func (w *window) read(subject string, from uint64, n, maxBytes int) (out []Delivery, ok bool) {
	if w == nil {
		return nil, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	r, found := w.chans.Peek(subject)
	if !found || r.closed || r.n == 0 || from < r.from || from > r.at(r.n-1).seq {
		return nil, false
	}
	i := sort.Search(r.n, func(i int) bool { return r.at(i).seq > from })
	prev, size := from, 0
	for ; i < r.n && len(out) < n; i++ {
		e := r.at(i)
		if maxBytes > 0 && len(out) > 0 && size+len(e.frame) > maxBytes {
			break
		}
		size += len(e.frame)
		out = append(out, Delivery{App: r.app, Channel: r.channel, Frame: e.frame, Seq: e.seq, Prev: prev, Exclude: e.exclude})
		prev = e.seq
	}
	return out, true
}

func (r *recent) at(i int) entry { return r.ring[(r.head+i)%len(r.ring)] }

func (r *recent) push(e entry) {
	if r.n == len(r.ring) {
		grown := make([]entry, min(max(8, 2*len(r.ring)), windowEvents+1))
		for i := 0; i < r.n; i++ {
			grown[i] = r.at(i)
		}
		r.ring, r.head = grown, 0
	}
	r.ring[(r.head+r.n)%len(r.ring)] = e
	r.n++
	r.bytes += e.size()
}

func (r *recent) pop() entry {
	e := r.ring[r.head]
	r.ring[r.head] = entry{}
	r.head = (r.head + 1) % len(r.ring)
	r.n--
	r.bytes -= e.size()
	return e
}
