// Package presence keeps channel occupancy and presence members of every node
// in one JetStream KV bucket. Each node owns and refreshes the keys of its own
// sockets; the keys of a node that dies expire. A watcher on every node turns
// the bucket's history into the same transitions everywhere: first member of
// a user joined, last one left, channel occupied, channel vacated.
package presence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/internal/every"
)

// Listener receives the transitions, one call at a time, in bucket order.
// rev is the bucket revision that caused the transition: the same on every
// node, so it names the transition cluster-wide.
type Listener interface {
	MemberAdded(app, channel string, m Member, by Socket, rev uint64)
	MemberRemoved(app, channel, userID string, rev uint64)
	Occupied(app, channel string, rev uint64)
	Vacated(app, channel string, rev uint64)
	// CountChanged reports a channel's new subscriber count, all nodes.
	CountChanged(app, channel string, count int, rev uint64)
}

// Options configure a Tracker.
type Options struct {
	// Node is this node's id; it must be unique among live nodes.
	Node string
	// TTL is how long a key outlives its node's last refresh (default 10 s).
	TTL time.Duration
	// Bucket is the KV bucket name (default PUSHD_PRESENCE).
	Bucket string
	// Replicas of the bucket (default 1).
	Replicas int
	// Flush is how often changed subscriber counts are written (default 50 ms).
	Flush  time.Duration
	Logger *slog.Logger
}

// bucketConfig declares the bucket. File storage: a NATS restart keeps the
// keys (memory storage lost the whole bucket, and with it presence).
func (t *Tracker) bucketConfig() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:         t.opts.Bucket,
		Description:    "Pushd presence members and channel occupancy",
		History:        1,
		TTL:            t.opts.TTL,
		LimitMarkerTTL: t.opts.TTL,
		Storage:        jetstream.FileStorage,
		Replicas:       t.opts.Replicas,
	}
}

// bucket returns the current KV handle (replaced when the bucket had to be
// declared again).
func (t *Tracker) bucket() jetstream.KeyValue { return *t.kvv.Load() }

// Tracker is one node's view of the presence bucket and owner of its keys.
type Tracker struct {
	js       jetstream.JetStream
	kvv      atomic.Pointer[jetstream.KeyValue]
	health   atomic.Pointer[error] // non-nil while the watcher is down
	opts     Options
	node     string // token form of opts.Node
	log      *slog.Logger
	listener Listener
	ready    chan struct{}
	kick     chan struct{} // asks for an immediate count flush
	lost     chan struct{} // the bucket is gone: restart the watcher

	mu     sync.Mutex
	view   map[chanKey]*chanView
	rev    uint64        // revision of the last entry applied to view
	revNew chan struct{} // closed when rev moves; nil while nobody waits

	writer  *writer    // member keys, written in the background
	flushMu sync.Mutex // one count flush at a time, so writes keep their order
	ownMu   sync.Mutex
	members map[string][]byte // own member keys and their values
	counts  map[chanKey]int   // own subscriber counts
	dirty   map[chanKey]bool
}

// New creates or opens the bucket. Call Run to start watching and refreshing.
func New(ctx context.Context, js jetstream.JetStream, opts Options) (*Tracker, error) {
	if opts.TTL == 0 {
		opts.TTL = 10 * time.Second
	}
	if opts.Bucket == "" {
		opts.Bucket = "PUSHD_PRESENCE"
	}
	if opts.Replicas == 0 {
		opts.Replicas = 1
	}
	if opts.Flush == 0 {
		opts.Flush = 50 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	t := &Tracker{
		js: js, opts: opts, node: bus.EncodeToken(opts.Node), log: opts.Logger,
		ready: make(chan struct{}), kick: make(chan struct{}, 1), lost: make(chan struct{}, 1), view: map[chanKey]*chanView{},
		members: map[string][]byte{}, counts: map[chanKey]int{}, dirty: map[chanKey]bool{},
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, t.bucketConfig())
	if err != nil {
		return nil, fmt.Errorf("presence bucket: %w", err)
	}
	t.kvv.Store(&kv)
	t.writer = newWriter(t)
	return t, nil
}

// Run watches the bucket, telling l of every transition, and refreshes this
// node's keys until ctx ends. A watcher that stops (a NATS restart, a lost
// bucket) is started again after the bucket is declared again; the view is
// then rebuilt and what changed meanwhile is announced.
func (t *Tracker) Run(ctx context.Context, l Listener) error {
	t.listener = l
	t.writer.run(ctx)
	go t.maintain(ctx)
	every.Restart(ctx, t.log, "presence", &t.health, func(first bool) error { return t.watch(ctx, first) },
		func(dctx context.Context) error {
			kv, err := t.js.CreateOrUpdateKeyValue(dctx, t.bucketConfig())
			if err != nil {
				return fmt.Errorf("presence bucket: %w", err)
			}
			t.kvv.Store(&kv)
			t.refresh(ctx) // this node's keys, into a bucket that may be new
			return nil
		})
	return nil
}

// Healthy reports whether the watcher is running (readiness).
func (t *Tracker) Healthy() error {
	if e := t.health.Load(); e != nil {
		return fmt.Errorf("presence watcher: %w", *e)
	}
	return nil
}

// watch runs one watcher until it stops. Its initial values build a fresh
// view silently; on the first watch that is the view, on a later one it is
// compared with the old view and the differences are announced.
func (t *Tracker) watch(ctx context.Context, first bool) error {
	w, err := t.bucket().WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watch presence: %w", err)
	}
	defer w.Stop()
	fresh := map[chanKey]*chanView{}
	var freshRev uint64
	initial := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.lost:
			return errors.New("presence bucket lost")
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("watcher closed")
			}
			switch {
			case e == nil && initial:
				initial = false
				t.mu.Lock()
				old := t.view
				t.view, t.rev = fresh, max(freshRev, t.rev)
				out := diff(old, fresh, t.rev)
				t.revMovedLocked()
				t.mu.Unlock()
				t.health.Store(nil)
				if first {
					close(t.ready)
				} else {
					t.emit(out)
				}
			case e == nil:
			case initial:
				// The initial values describe the past: they build the
				// view but announce nothing (the nodes that saw them did).
				freshRev = e.Revision()
				applyEntry(fresh, e)
			default:
				t.mu.Lock()
				t.rev = e.Revision()
				out := applyEntry(t.view, e)
				t.revMovedLocked()
				t.mu.Unlock()
				t.emit(out)
			}
		}
	}
}

// Ready is closed once the view holds the bucket's initial values.
func (t *Tracker) Ready() <-chan struct{} { return t.ready }

type transition struct {
	kind    int // 1 added, 2 removed, 3 occupied, 4 vacated, 5 count
	count   int
	k       chanKey
	m       Member
	by      Socket
	user    string
	revison uint64
}

// applyEntry applies one bucket entry to a view and returns the transitions
// it causes. The caller holds whatever lock guards view.
func applyEntry(view map[chanKey]*chanView, e jetstream.KeyValueEntry) []transition {
	parts := splitKey(e.Key())
	if len(parts) < 4 {
		return nil
	}
	app, err1 := bus.DecodeToken(parts[1])
	ch, err2 := bus.DecodeToken(parts[2])
	node := parts[3]
	if err1 != nil || err2 != nil {
		return nil
	}
	k := chanKey{app, ch}
	put := e.Operation() == jetstream.KeyValuePut
	v := view[k]
	if v == nil {
		if !put {
			return nil
		}
		v = newChanView()
		view[k] = v
	}
	var out []transition
	rev := e.Revision()
	switch {
	case parts[0] == "o" && len(parts) == 4:
		n := 0
		if put {
			n, _ = strconv.Atoi(string(e.Value()))
		}
		before := v.total
		switch v.setOcc(node, n) {
		case 1:
			out = append(out, transition{kind: 3, k: k, revison: rev})
		case -1:
			out = append(out, transition{kind: 4, k: k, revison: rev})
		}
		if v.total != before {
			out = append(out, transition{kind: 5, k: k, count: v.total, revison: rev})
		}
	case parts[0] == "m" && len(parts) == 5:
		sock, err := bus.DecodeToken(parts[4])
		if err != nil {
			break
		}
		nodeID, _ := bus.DecodeToken(node)
		s := Socket{Node: nodeID, ID: sock}
		if put {
			var m stored
			if json.Unmarshal(e.Value(), &m) != nil || m.UserID == "" {
				break
			}
			at := m.Since
			if at == 0 {
				at = e.Created().UnixMilli()
			}
			if v.addSocket(s, m.Member, at) {
				out = append(out, transition{kind: 1, k: k, m: m.Member, by: s, revison: rev})
			}
		} else if user, last := v.removeSocket(s); last {
			out = append(out, transition{kind: 2, k: k, user: user, revison: rev})
		}
	}
	if v.empty() {
		delete(view, k)
	}
	return out
}

// diff lists the transitions that lead from view a to view b, all named by
// revision rev: members gone and new, occupancy and count changes.
func diff(a, b map[chanKey]*chanView, rev uint64) []transition {
	var out []transition
	keys := map[chanKey]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	empty := newChanView()
	for k := range keys {
		va, vb := a[k], b[k]
		if va == nil {
			va = empty
		}
		if vb == nil {
			vb = empty
		}
		for _, id := range va.order {
			if vb.users[id] == nil {
				out = append(out, transition{kind: 2, k: k, user: id, revison: rev})
			}
		}
		for _, id := range vb.order {
			if va.users[id] == nil {
				out = append(out, transition{kind: 1, k: k, m: Member{UserID: id, UserInfo: vb.users[id].info}, revison: rev})
			}
		}
		switch {
		case va.total == 0 && vb.total > 0:
			out = append(out, transition{kind: 3, k: k, revison: rev})
		case va.total > 0 && vb.total == 0:
			out = append(out, transition{kind: 4, k: k, revison: rev})
		}
		if va.total != vb.total {
			out = append(out, transition{kind: 5, k: k, count: vb.total, revison: rev})
		}
	}
	return out
}

// emit tells the listener of transitions, in order.
func (t *Tracker) emit(out []transition) {
	if t.listener == nil {
		return
	}
	for _, tr := range out {
		switch tr.kind {
		case 1:
			t.listener.MemberAdded(tr.k.app, tr.k.channel, tr.m, tr.by, tr.revison)
		case 2:
			t.listener.MemberRemoved(tr.k.app, tr.k.channel, tr.user, tr.revison)
		case 3:
			t.listener.Occupied(tr.k.app, tr.k.channel, tr.revison)
		case 4:
			t.listener.Vacated(tr.k.app, tr.k.channel, tr.revison)
		case 5:
			t.listener.CountChanged(tr.k.app, tr.k.channel, tr.count, tr.revison)
		}
	}
}

// Join records a presence member for one of this node's sockets and
// returns once its key is written, after any earlier write of the key
// (writer.go).
func (t *Tracker) Join(ctx context.Context, app, channel, socket string, m Member) error {
	key := memberKey(bus.EncodeToken(app), bus.EncodeToken(channel), t.node, bus.EncodeToken(socket))
	if err := bus.CheckKey(t.opts.Bucket, key); err != nil {
		return fmt.Errorf("join: %w", err)
	}
	val, err := json.Marshal(stored{Member: m, Since: time.Now().UnixMilli()})
	if err != nil {
		return fmt.Errorf("encode member: %w", err)
	}
	t.ownMu.Lock()
	t.members[key] = val
	t.ownMu.Unlock()
	rev, err := t.writer.writeWait(ctx, memberOp{key: key, val: val})
	if err != nil {
		// The subscription is refused: the refresh must not write the key
		// later, and a write that lands after all is deleted.
		t.ownMu.Lock()
		delete(t.members, key)
		t.ownMu.Unlock()
		t.writer.write(memberOp{key: key})
		return fmt.Errorf("join %s: %w", channel, err)
	}
	t.waitView(ctx, rev)
	return nil
}

// Within viewWait the watcher shows a node its own write: past it (a
// watcher being restarted) a Join returns anyway, its write is stored.
const viewWait = 2 * time.Second

// waitView waits until the view holds the bucket up to rev, so that what
// this node answers next (a member list, the max_presence_members check)
// counts a member whose Join returned; bounded by viewWait and ctx.
func (t *Tracker) waitView(ctx context.Context, rev uint64) {
	timeout := time.NewTimer(viewWait)
	defer timeout.Stop()
	for {
		t.mu.Lock()
		if t.rev >= rev {
			t.mu.Unlock()
			return
		}
		if t.revNew == nil {
			t.revNew = make(chan struct{})
		}
		moved := t.revNew
		t.mu.Unlock()
		select {
		case <-moved:
		case <-timeout.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// revMovedLocked wakes the Joins waiting for the view; t.mu is held.
func (t *Tracker) revMovedLocked() {
	if t.revNew != nil {
		close(t.revNew)
		t.revNew = nil
	}
}

// Leave removes a presence member of one of this node's sockets; the key is
// deleted in the background, after any write of it still queued.
func (t *Tracker) Leave(_ context.Context, app, channel, socket string) error {
	key := memberKey(bus.EncodeToken(app), bus.EncodeToken(channel), t.node, bus.EncodeToken(socket))
	t.ownMu.Lock()
	_, ok := t.members[key]
	delete(t.members, key)
	t.ownMu.Unlock()
	if ok {
		t.writer.write(memberOp{key: key})
	}
	return nil
}

// SetCount records this node's number of subscribers of a channel. It never
// blocks: a change between zero and non-zero is written at once by the
// maintenance goroutine, other changes within the flush interval. Callers
// serialise calls per channel so that the last call carries the true count.
func (t *Tracker) SetCount(app, channel string, n int) {
	k := chanKey{app, channel}
	t.ownMu.Lock()
	before := t.counts[k]
	if n > 0 {
		t.counts[k] = n
	} else {
		delete(t.counts, k)
	}
	t.dirty[k] = true
	t.ownMu.Unlock()
	if (before == 0) != (n == 0) {
		select {
		case t.kick <- struct{}{}:
		default:
		}
	}
}

// countKey is the key of this node's subscriber count of a channel.
func (t *Tracker) countKey(k chanKey) string {
	return occKey(bus.EncodeToken(k.app), bus.EncodeToken(k.channel), t.node)
}

// maintain writes batched counts and refreshes every own key well inside
// the TTL, so that only the keys of a dead node expire.
func (t *Tracker) maintain(ctx context.Context) {
	flush := time.NewTicker(t.opts.Flush)
	defer flush.Stop()
	refresh := time.NewTicker(t.opts.TTL / 3)
	defer refresh.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-flush.C:
			t.flush(ctx)
		case <-t.kick:
			t.flush(ctx)
		case <-refresh.C:
			t.refresh(ctx)
		}
	}
}

// flushTimeout bounds one count flush: a flush that cannot reach NATS gives
// up and leaves its keys dirty for the next one.
const flushTimeout = 3 * time.Second

// flush writes the counts changed since the last flush, with their current
// values, so a burst of changes costs one write per channel.
func (t *Tracker) flush(ctx context.Context) {
	t.flushMu.Lock()
	defer t.flushMu.Unlock()
	t.ownMu.Lock()
	batch := make(map[chanKey]int, len(t.dirty))
	for k := range t.dirty {
		batch[k] = t.counts[k]
	}
	clear(t.dirty)
	t.ownMu.Unlock()
	puts := map[string][]byte{}
	var deletes []string
	keys := map[string]chanKey{}
	for k, n := range batch {
		key := t.countKey(k)
		keys[key] = k
		if n > 0 {
			puts[key] = []byte(strconv.Itoa(n))
		} else {
			deletes = append(deletes, key)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	if failed, err := t.putAll(ctx, puts, deletes...); err != nil {
		t.log.Warn("presence counts", slog.Any("err", err))
		for _, key := range failed {
			t.markDirty(keys[key])
		}
	}
}

// markDirty has a count written again on the next flush.
func (t *Tracker) markDirty(k chanKey) {
	t.ownMu.Lock()
	t.dirty[k] = true
	t.ownMu.Unlock()
}

// Flush writes pending count changes and member writes now; a draining node
// calls it after its sockets closed so that its channels vacate and its
// members leave at once, not after the TTL.
func (t *Tracker) Flush(ctx context.Context) {
	t.writer.drain(ctx)
	t.flush(ctx)
}

func (t *Tracker) refresh(ctx context.Context) {
	// A NATS server that lost the bucket leaves the watcher waiting and
	// every write failing: notice it here and have Run declare it again.
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err := t.bucket().Status(sctx)
	cancel()
	if errors.Is(err, jetstream.ErrBucketNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
		select {
		case t.lost <- struct{}{}:
		default:
		}
		return
	}
	t.rewrite(ctx, t.ownKeys())
}

// ownKeys returns this node's member and count keys with their values.
func (t *Tracker) ownKeys() map[string][]byte {
	t.ownMu.Lock()
	defer t.ownMu.Unlock()
	keys := make(map[string][]byte, len(t.members)+len(t.counts))
	for k, v := range t.members {
		keys[k] = v
	}
	for k, n := range t.counts {
		if n > 0 {
			keys[t.countKey(k)] = []byte(strconv.Itoa(n))
		}
	}
	return keys
}

// rewrite writes own keys again (resetting their TTL).
func (t *Tracker) rewrite(ctx context.Context, members map[string][]byte) {
	if _, err := t.putAll(ctx, members); err != nil {
		t.log.Warn("presence refresh incomplete", slog.Any("err", err))
	}
	// A member that left while its key was being refreshed may have been
	// written back after its Leave deleted it: delete it again, or it would
	// stay a ghost until its key expires.
	var gone []string
	t.ownMu.Lock()
	for k := range members {
		if _, still := t.members[k]; !still && strings.HasPrefix(k, "m.") {
			gone = append(gone, k)
		}
	}
	t.ownMu.Unlock()
	for _, k := range gone {
		if err := t.bucket().Delete(ctx, k); err != nil {
			t.log.Warn("presence refresh: delete a member that left", slog.Any("err", err))
		}
	}
}

// Members returns the unique users of a presence channel, in join order.
func (t *Tracker) Members(app, channel string) []Member {
	m, _ := t.MembersAt(app, channel)
	return m
}

// MembersAt is Members with the bucket revision the list reflects: member
// transitions up to that revision are already in it.
func (t *Tracker) MembersAt(app, channel string) ([]Member, uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if v := t.view[chanKey{app, channel}]; v != nil {
		return v.members(), t.rev
	}
	return nil, t.rev
}

// UserCount returns the number of unique users on a presence channel.
func (t *Tracker) UserCount(app, channel string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if v := t.view[chanKey{app, channel}]; v != nil {
		return len(v.users)
	}
	return 0
}

// Present reports whether a user has a socket on a presence channel.
func (t *Tracker) Present(app, channel, userID string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if v := t.view[chanKey{app, channel}]; v != nil {
		return v.users[userID] != nil
	}
	return false
}

// UserStatus returns a user's connections on a channel across the cluster
// and when the oldest of them joined, as the bucket shows them.
func (t *Tracker) UserStatus(app, channel, userID string) UserStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	v := t.view[chanKey{app, channel}]
	if v == nil {
		return UserStatus{}
	}
	u := v.users[userID]
	if u == nil {
		return UserStatus{}
	}
	return UserStatus{Sockets: len(u.ats), Since: time.UnixMilli(u.since())}
}

// SubscriptionCount returns the subscribers of a channel on all nodes:
// this node's own count as it is now (read-your-write: a subscription
// confirmed to a client is counted before the batched write lands) plus
// the other nodes' counts as last written to the bucket.
func (t *Tracker) SubscriptionCount(app, channel string) int {
	k := chanKey{app, channel}
	t.ownMu.Lock()
	own := t.counts[k]
	t.ownMu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.othersCount(k) + own
}

// othersCount is the bucket's count of a channel less this node's share,
// which the caller takes from t.counts instead. The caller holds t.mu.
func (t *Tracker) othersCount(k chanKey) int {
	v := t.view[k]
	if v == nil {
		return 0
	}
	return v.total - v.occ[t.node]
}

// Occupied reports whether a channel has a subscriber on any node.
func (t *Tracker) Occupied(app, channel string) bool { return t.SubscriptionCount(app, channel) > 0 }

// Channels returns the occupied channels of an app whose names start with
// prefix, with their subscriber counts, sorted by name.
//
// Like SubscriptionCount, this node's share is its count as it is now.
// Internal channels (named with '#') are listed only for a '#' prefix.
func (t *Tracker) Channels(app, prefix string) ([]string, map[string]int) {
	counts := map[string]int{}
	internal := strings.HasPrefix(prefix, "#")
	t.ownMu.Lock()
	for k, n := range t.counts {
		if k.app == app && n > 0 && strings.HasPrefix(k.channel, prefix) && (internal || !strings.HasPrefix(k.channel, "#")) {
			counts[k.channel] = n
		}
	}
	t.ownMu.Unlock()
	t.mu.Lock()
	for k := range t.view {
		if k.app == app && strings.HasPrefix(k.channel, prefix) && (internal || !strings.HasPrefix(k.channel, "#")) {
			counts[k.channel] += t.othersCount(k)
		}
	}
	t.mu.Unlock()
	for ch, n := range counts {
		if n <= 0 {
			delete(counts, ch)
		}
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, counts
}

// MemberSockets returns the number of presence member keys (one per socket
// on a presence channel) across the cluster, for metrics.
func (t *Tracker) MemberSockets() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for k, v := range t.view {
		if k.channel != "#online" {
			n += len(v.sockets)
		}
	}
	return n
}
