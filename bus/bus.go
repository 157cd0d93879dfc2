// Package bus owns NATS: an embedded nats-server with JetStream for a single
// node, or a connection to an external NATS. It stores every event in a
// per-app JetStream stream and delivers the stream's republished copies to
// the gateway in order per channel, filling gaps from the stream.
package bus

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/pushd/pushd/config"
)

// Options configure Open. The zero value with a DataDir runs an embedded
// server without a TCP listener.
type Options struct {
	// URL of an external NATS (comma-separated seeds); empty embeds a server.
	URL string
	// DataDir holds the embedded server's JetStream storage.
	DataDir string
	// Listen opens a NATS client listener on the embedded server.
	Listen string
	// Name is the NATS connection name.
	Name string
	// Logger receives connection state changes; nil uses slog.Default.
	Logger *slog.Logger
	// Auth are credentials and TLS for an external NATS.
	Auth config.NATSAuth
	// ListenAuth secures the embedded server's listener (required with
	// Listen); pushd's own connection presents the same credentials.
	ListenAuth config.NATSListenAuth
	// MaxStore caps the embedded server's JetStream file storage in bytes;
	// 0 leaves NATS's default (75% of the disk's free space at start).
	MaxStore int64
	// Replicas of streams and buckets; 0 picks 3 on a cluster of 3 or more
	// servers, else 1.
	Replicas int
	// WindowBytes is the memory for the latest events of the channels this
	// node receives, from which resumes are served without reading the
	// stream; 0 keeps no window.
	WindowBytes int
	// Confirm is how long after a new channel subscription the bus checks
	// the stream for events that did not arrive (interest takes time to
	// spread across a NATS cluster). 0 picks 1 s when the NATS server is
	// part of a cluster and no check on a single server; < 0 never checks.
	Confirm time.Duration
}

// Delivery is one stored event arriving for a channel with local interest.
type Delivery struct {
	App     string
	Channel string
	// Frame is the encoded protocol frame, ready to write to sockets.
	Frame []byte
	// Seq is the event's position in its app's stream.
	Seq uint64
	// Prev is a position before Seq such that the channel has no stored
	// event between the two (Seq-1 when nothing more is known).
	Prev uint64
	// Exclude is the socket id that must not receive the event.
	Exclude string
	// Stored is when JetStream stored the event (zero when unknown).
	Stored time.Time
}

// Handler receives deliveries; calls for one channel never overlap and come
// in stream order.
type Handler func(Delivery)

// Bus is a NATS connection with the streams of Pushd's apps.
type Bus struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	out     *nats.Conn          // channel subscriptions and client-event relays (no echo)
	jobsNC  *nats.Conn          // the connection of Jobs
	jobsJS  jetstream.JetStream // background work: webhook jobs
	emb     *embedded           // nil on an external NATS
	log     *slog.Logger
	handler Handler

	shards    []*shard
	done      chan struct{}   // closed by Close: shards stop
	ctx       context.Context // the bus's own reads (gap fills, confirmations); Close ends it
	stop      context.CancelFunc
	store     *storage
	closeOnce sync.Once

	replicas  int
	confirm   time.Duration
	confirmer *confirmer

	streamReads atomic.Int64 // batched reads of a stream, for tests

	mu      sync.Mutex
	streams map[string]jetstream.Stream // by app token
}

// Replicas is the replica count used for streams and buckets.
func (b *Bus) Replicas() int { return b.replicas }

const (
	deliveryShards = 16
	shardBuffer    = 16384
	// Header names carried by stored events.
	hdrExclude = "Pushd-Exclude"
	hdrSeq     = "Nats-Sequence"
	hdrLastSeq = "Nats-Last-Sequence"
	hdrTime    = "Nats-Time-Stamp"
)

// Open connects to NATS (starting the embedded server when opts.URL is empty)
// and starts delivering events to h.
func Open(ctx context.Context, opts Options, h Handler) (*Bus, error) {
	b := &Bus{log: opts.Logger, handler: h, streams: map[string]jetstream.Stream{}, done: make(chan struct{}), confirm: opts.Confirm}
	b.confirmer = newConfirmer(b)
	if b.log == nil {
		b.log = slog.Default()
	}
	natsOpts := []nats.Option{
		nats.Name(opts.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.DisconnectErrHandler(func(c *nats.Conn, err error) {
			// Without an error the connection was closed on purpose
			// (Close, Drain: a shutdown), not lost.
			if err == nil {
				b.log.Debug("nats connection closed", slog.String("connection", c.Opts.Name))
				return
			}
			b.log.Warn("nats disconnected", slog.Any("err", err))
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			b.log.Info("nats reconnected", slog.String("url", c.ConnectedUrlRedacted()))
		}),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			subj := ""
			if s != nil {
				subj = s.Subject
			}
			b.log.Error("nats async error", slog.String("subject", subj), slog.Any("err", err))
		}),
	}
	url := opts.URL
	auth, err := authOptions(opts.Auth)
	if url == "" {
		auth, err = inProcessAuth(opts.ListenAuth)
	}
	if err != nil {
		return nil, err
	}
	natsOpts = append(natsOpts, auth...)
	if url == "" {
		emb, err := startEmbedded(opts, newNATSLogger(b.log))
		if err != nil {
			return nil, err
		}
		b.emb = emb
		// No write deadline on the in-process pipe: each one would start a
		// timer per flush, and a pipe to our own server cannot stall on a
		// network.
		natsOpts = append(natsOpts, nats.InProcessServer(emb), nats.FlusherTimeout(0))
	}
	nc, err := nats.Connect(url, natsOpts...)
	if err != nil {
		if b.emb != nil {
			b.emb.shutdown()
		}
		return nil, fmt.Errorf("connect nats: %w%s", err, tlsClosedHint(err, opts.Auth))
	}
	b.nc = nc
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
		b.log.Error("async publish failed", slog.String("subject", m.Subject), slog.Any("err", err))
	}))
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	b.js = createFirst{js}
	// Webhook jobs get a connection of their own: a server handles one
	// connection's messages in order, and thousands of job stores a second
	// queued ahead of the client events and deliveries sharing it (a
	// client-event round trip went from 19 to 172 ms at p99 with a webhook
	// for each, on the machine of docs/benchmarks.md).
	jobs, err := nats.Connect(url, append(natsOpts, nats.Name(opts.Name+"-jobs"))...)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("connect nats (jobs): %w", err)
	}
	b.jobsNC = jobs
	jobsJS, err := jetstream.New(jobs)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("jetstream (jobs): %w", err)
	}
	b.jobsJS = createFirst{jobsJS}
	// Channel subscriptions and client-event relays share a connection
	// that NATS does not echo to: a node's own relays (its subscribers
	// had them when they were sent) never come back to it, which saved
	// the embedded server and the client a parse and a hand-off each.
	// Stored events are republished by the stream, not by this
	// connection, so they arrive as before.
	out, err := nats.Connect(url, append(natsOpts, nats.Name(opts.Name+"-out"), nats.NoEcho())...)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("connect nats (subscriptions): %w", err)
	}
	b.out = out
	b.replicas = opts.Replicas
	if b.replicas == 0 {
		b.replicas = 1
		// Servers the client knows of: the seeds plus those the cluster
		// announced; a cluster of 3 or more gets 3 replicas.
		if b.emb == nil && len(nc.Servers()) >= 3 {
			b.replicas = 3
		}
	}
	b.store = newStorage(b)
	b.ctx, b.stop = context.WithCancel(context.WithoutCancel(ctx))
	go b.store.run(b.ctx)
	b.shards = make([]*shard, deliveryShards)
	for i := range b.shards {
		s := &shard{bus: b, in: make(chan *nats.Msg, shardBuffer), last: map[string]uint64{},
			window: newWindow(opts.WindowBytes / deliveryShards)}
		b.shards[i] = s
		go s.run()
	}
	return b, nil
}

// tlsClosedHint explains a TLS connection the server closed right after the
// handshake: under TLS 1.3 a refused client certificate shows up only as the
// connection closing (broken pipe, reset, EOF) on the first write or read.
func tlsClosedHint(err error, a config.NATSAuth) string {
	if !errors.Is(err, nats.ErrTLS) ||
		!(errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)) {
		return ""
	}
	if a.CertFile == "" {
		return " (the server probably requires a client certificate: set nats cert_file and key_file)"
	}
	return " (the server probably rejected the client certificate " + a.CertFile + ")"
}

// Ready reports whether NATS is connected.
func (b *Bus) Ready() error {
	if st := b.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("nats %s", st)
	}
	if st := b.out.Status(); st != nats.CONNECTED {
		return fmt.Errorf("nats (subscriptions) %s", st)
	}
	return nil
}

// Healthy checks that JetStream answers (streams and buckets are usable)
// and stores: the embedded server's own health check, and whether a
// failed publish revealed storage that does not work (ErrStorage).
func (b *Bus) Healthy(ctx context.Context) error {
	if err := b.Ready(); err != nil {
		return err
	}
	if _, err := b.js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	if b.emb != nil {
		if err := b.emb.storageErr(ctx); err != nil {
			return fmt.Errorf("event storage: %w", err)
		}
	}
	return b.store.failing()
}

// Close drains the connection and stops the embedded server.
func (b *Bus) Close() {
	b.closeOnce.Do(b.close)
}

func (b *Bus) close() {
	if b.stop != nil {
		b.stop() // reads in flight end now, not at their timeouts
	}
	if b.jobsNC != nil {
		b.jobsNC.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, nc := range []*nats.Conn{b.out, b.nc} {
		if nc == nil {
			continue
		}
		_ = nc.Drain()
		for !nc.IsClosed() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		nc.Close()
	}
	close(b.done)
	if b.emb != nil {
		b.emb.shutdown()
	}
}

// AppStream describes the retention of one app's event stream.
type AppStream struct {
	Key      string
	MaxAge   time.Duration
	MaxBytes int64
}

// EnsureApp creates the app's stream, or updates its retention in place.
func (b *Bus) EnsureApp(ctx context.Context, a AppStream) error {
	tok := EncodeToken(a.Key)
	cfg := b.appStreamConfig(a)
	st, err := b.js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		// An existing stream is only ever updated in place; settings that
		// cannot change (storage, subjects) are refused, never re-created.
		return fmt.Errorf("stream %s for app %s (existing streams are updated in place, never deleted; "+
			"change or remove it with the nats CLI if its settings conflict): %w", cfg.Name, a.Key, err)
	}
	b.mu.Lock()
	b.streams[tok] = st
	b.mu.Unlock()
	return nil
}

// DeleteApp deletes the app's stream and its stored events (the app was
// deleted); a stream that is already gone is no error.
func (b *Bus) DeleteApp(ctx context.Context, key string) error {
	tok := EncodeToken(key)
	b.mu.Lock()
	delete(b.streams, tok)
	b.mu.Unlock()
	err := b.js.DeleteStream(ctx, streamName(tok))
	if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("delete the stream of app %s: %w", key, err)
	}
	return nil
}

// appStreamConfig declares the stream of one app's events.
func (b *Bus) appStreamConfig(a AppStream) jetstream.StreamConfig {
	tok := EncodeToken(a.Key)
	return jetstream.StreamConfig{
		Name:        streamName(tok),
		Description: "Pushd events of app " + a.Key,
		Subjects:    []string{eventSubject(tok, "*")},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      a.MaxAge,
		MaxBytes:    a.MaxBytes,
		Duplicates:  duplicatesWindow(a.MaxAge),
		AllowDirect: true,
		// A new stream starts at the current time in microseconds rather
		// than at 1, so positions of an earlier stream of the app (the
		// store was reset) lie below the new one's first event and a
		// resume from them is refused instead of replaying unrelated
		// events; and an empty stream has a position clients can resume
		// from. Positions stay below 2^53, exact in JavaScript numbers.
		FirstSeq: uint64(time.Now().UnixMicro()),
		RePublish: &jetstream.RePublish{
			Source:      eventSubject(tok, "*"),
			Destination: outSubject(tok, "{{wildcard(1)}}"),
		},
		Replicas: b.replicas,
	}
}

// duplicatesWindow is a stream's de-duplication window: a minute, or the
// stream's max age when shorter (nats-server refuses a window longer than
// the max age, and an app with history_max_age under a minute could not
// start).
func duplicatesWindow(maxAge time.Duration) time.Duration {
	if maxAge > 0 && maxAge < time.Minute {
		return maxAge
	}
	return time.Minute
}

func (b *Bus) stream(appTok string) (jetstream.Stream, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st, ok := b.streams[appTok]
	if !ok {
		return nil, fmt.Errorf("no stream for app token %s", appTok)
	}
	return st, nil
}

// Outgoing is one event to store.
type Outgoing struct {
	Channel string
	Frame   []byte
	Exclude string
}

func (b *Bus) message(appTok string, o Outgoing) (*nats.Msg, error) {
	chTok := EncodeToken(o.Channel)
	if err := checkChannel(appTok, chTok, o.Channel); err != nil {
		return nil, err
	}
	m := nats.NewMsg(eventSubject(appTok, chTok))
	m.Data = o.Frame
	if o.Exclude != "" {
		m.Header.Set(hdrExclude, o.Exclude)
	}
	return m, nil
}

// electionRetry rides out a stream leader election (a few seconds in which
// the stream has no responder): "no responders" means nothing was stored,
// so retrying cannot duplicate. Bounded by the caller's context as well.
var electionRetry = []jetstream.PublishOpt{jetstream.WithRetryAttempts(20), jetstream.WithRetryWait(250 * time.Millisecond)}

// Publish stores events of one app and returns their stream sequences once
// JetStream has acknowledged every one of them.
func (b *Bus) Publish(ctx context.Context, app string, evs ...Outgoing) ([]uint64, error) {
	if b.emb != nil {
		// One server, one disk: while it cannot store, say so at once
		// rather than after the caller's timeout.
		if err := b.store.failing(); err != nil {
			return nil, fmt.Errorf("store event: %w", err)
		}
	}
	seqs, err := b.publish(ctx, app, evs)
	b.store.published(err)
	return seqs, err
}

func (b *Bus) publish(ctx context.Context, app string, evs []Outgoing) ([]uint64, error) {
	tok := EncodeToken(app)
	msgs := make([]*nats.Msg, len(evs))
	for i, o := range evs {
		m, err := b.message(tok, o)
		if err != nil {
			return nil, fmt.Errorf("store event: %w", err)
		}
		msgs[i] = m
	}
	if len(evs) == 1 {
		ack, err := b.js.PublishMsg(ctx, msgs[0], electionRetry...)
		if err != nil {
			return nil, fmt.Errorf("store event on %s: %w", evs[0].Channel, err)
		}
		return []uint64{ack.Sequence}, nil
	}
	futures := make([]jetstream.PubAckFuture, len(evs))
	for i, o := range evs {
		f, err := b.js.PublishMsgAsync(msgs[i], electionRetry...)
		if err != nil {
			return nil, fmt.Errorf("store event on %s: %w", o.Channel, err)
		}
		futures[i] = f
	}
	seqs := make([]uint64, len(evs))
	for i, f := range futures {
		select {
		case ack := <-f.Ok():
			seqs[i] = ack.Sequence
		case err := <-f.Err():
			return nil, fmt.Errorf("store event on %s: %w", evs[i].Channel, err)
		case <-ctx.Done():
			return nil, fmt.Errorf("store event on %s: %w", evs[i].Channel, ctx.Err())
		}
	}
	return seqs, nil
}

// Relay delivers an event to every other node with interest in its channel
// without storing it (client events: Pusher does not keep them either); the
// caller hands it to its own node's subscribers. It carries no stream
// position, so it is neither replayed nor cached.
func (b *Bus) Relay(app string, o Outgoing) error {
	appTok, chTok := EncodeToken(app), EncodeToken(o.Channel)
	if err := checkChannel(appTok, chTok, o.Channel); err != nil {
		return fmt.Errorf("relay client event: %w", err)
	}
	// The socket to leave out rides in the reply subject, which no node
	// answers: a header would cost every receiving node a parse and a map
	// per client event.
	if err := b.out.PublishRequest(outSubject(appTok, chTok), o.Exclude, o.Frame); err != nil {
		return fmt.Errorf("relay client event on %s: %w", o.Channel, err)
	}
	return nil
}

// Stored is an event read back from a stream.
type Stored struct {
	Frame []byte
	Seq   uint64
	Time  time.Time
}

// ErrNotFound reports that the stream holds no such event.
var ErrNotFound = errors.New("bus: no stored event")

// Last returns the newest stored event of a channel.
func (b *Bus) Last(ctx context.Context, app, channel string) (Stored, error) {
	tok := EncodeToken(app)
	st, err := b.stream(tok)
	if err != nil {
		return Stored{}, err
	}
	chTok := EncodeToken(channel)
	if err := checkChannel(tok, chTok, channel); err != nil {
		return Stored{}, fmt.Errorf("last event: %w", err)
	}
	m, err := st.GetLastMsgForSubject(ctx, eventSubject(tok, chTok))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Stored{}, ErrNotFound
	}
	if err != nil {
		return Stored{}, fmt.Errorf("last event of %s: %w", channel, err)
	}
	return Stored{Frame: m.Data, Seq: m.Sequence, Time: m.Time}, nil
}

// After returns the stored events of a channel with a sequence greater than
// from and smaller than to (to == 0: up to the newest), in order, at most max
// of them (max <= 0: no limit). It reads the stream in batches.
func (b *Bus) After(ctx context.Context, app, channel string, from, to uint64, max int) ([]Delivery, error) {
	tok, chTok := EncodeToken(app), EncodeToken(channel)
	if err := checkChannel(tok, chTok, channel); err != nil {
		return nil, fmt.Errorf("read %s: %w", channel, err)
	}
	var out []Delivery
	for start := from + 1; ; {
		n := 1024
		if max > 0 {
			n = min(n, max-len(out))
		}
		if n <= 0 {
			return out, nil
		}
		bt, err := b.readBatch(ctx, app, channel, start, n, 0)
		for _, d := range bt.events {
			if to != 0 && d.Seq >= to {
				return out, nil
			}
			out = append(out, d)
		}
		if err != nil {
			return out, err
		}
		if len(bt.events) == 0 || bt.more == 0 {
			return out, nil
		}
		start = bt.events[len(bt.events)-1].Seq + 1
	}
}

// LastSeq returns the newest sequence of the app's stream (0 when empty):
// a resume from it replays exactly what is stored afterwards.
func (b *Bus) LastSeq(ctx context.Context, app string) (uint64, error) {
	st, err := b.state(ctx, app)
	return st.LastSeq, err
}

// Bounds returns the first and last sequence the app's stream holds; in an
// empty stream first is last + 1. Every event of a channel from first on is
// still stored.
func (b *Bus) Bounds(ctx context.Context, app string) (first, last uint64, err error) {
	st, err := b.state(ctx, app)
	return st.FirstSeq, st.LastSeq, err
}

// state reads the app stream's state from its leader.
func (b *Bus) state(ctx context.Context, app string) (jetstream.StreamState, error) {
	st, err := b.stream(EncodeToken(app))
	if err != nil {
		return jetstream.StreamState{}, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return jetstream.StreamState{}, fmt.Errorf("stream info of %s: %w", app, err)
	}
	return info.State, nil
}

// Subscription is local interest in one channel.
type Subscription struct {
	sub   *nats.Subscription
	shard *shard
	check *atomic.Bool // cancels the delayed check against the stream, if any
}

// Subscribe starts delivering a channel's events to the handler. It returns
// once the NATS server has registered the interest. On a NATS cluster the
// interest reaches the stream's leader a little later: events the channel
// misses meanwhile are read from the stream, when the next one arrives or
// when the check after Options.Confirm finds them, whichever is first.
func (b *Bus) Subscribe(app, channel string) (*Subscription, error) {
	appTok, chTok := EncodeToken(app), EncodeToken(channel)
	if err := checkChannel(appTok, chTok, channel); err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	subj := outSubject(appTok, chTok)
	sh := b.shardOf(subj)
	confirm := b.confirmer.after()
	if confirm > 0 {
		// Before the interest exists, so every event after base is owed.
		if base, err := b.confirmer.base(app); err == nil {
			sh.enqueue(marker(markBase, subj, base))
		}
	}
	sub, err := b.out.ChanSubscribe(subj, sh.in)
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", channel, err)
	}
	if err := b.out.FlushTimeout(5 * time.Second); err != nil {
		_ = sub.Unsubscribe()
		sh.enqueue(marker(markUnsub, subj, 0))
		return nil, fmt.Errorf("subscribe %s: flush: %w", channel, err)
	}
	s := &Subscription{sub: sub, shard: sh}
	if confirm > 0 {
		s.check = b.confirmer.schedule(app, sh, subj, confirm)
	}
	return s, nil
}

// shardOf returns the shard that delivers an out subject.
func (b *Bus) shardOf(subject string) *shard {
	h := fnv.New32a()
	h.Write([]byte(subject))
	return b.shards[h.Sum32()%uint32(len(b.shards))]
}

// Unsubscribe ends the interest; events already queued are still delivered.
func (s *Subscription) Unsubscribe() error {
	subj := s.sub.Subject
	if s.check != nil {
		s.check.Store(true)
	}
	s.shard.window.close(subj)
	err := s.sub.Unsubscribe()
	// The marker follows every queued message of this subscription, so the
	// shard forgets the subject's position only after delivering them.
	s.shard.enqueue(marker(markUnsub, subj, 0))
	if err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("unsubscribe %s: %w", subj, err)
	}
	return nil
}

// Tap calls f for every stored event of an app on every channel, as the
// stream republishes it (the debug console's live view). Deliveries carry
// no ordering or gap guarantee. Stop with the returned function.
func (b *Bus) Tap(app string, f func(Delivery)) (func(), error) {
	sub, err := b.nc.Subscribe(outSubject(EncodeToken(app), "*"), func(m *nats.Msg) {
		a, ch, ok := splitOut(m.Subject)
		if !ok {
			return
		}
		seq, _ := strconv.ParseUint(m.Header.Get(hdrSeq), 10, 64)
		f(Delivery{App: a, Channel: ch, Frame: m.Data, Seq: seq, Exclude: m.Header.Get(hdrExclude)})
	})
	if err != nil {
		return nil, fmt.Errorf("tap %s: %w", app, err)
	}
	return func() { _ = sub.Unsubscribe() }, nil
}

// Control messages between nodes.

// PublishControl sends a control message of kind for an app to every node.
func (b *Bus) PublishControl(app, kind string, data []byte) error {
	if err := b.nc.Publish(controlSubject(EncodeToken(app), kind), data); err != nil {
		return fmt.Errorf("control %s: %w", kind, err)
	}
	return b.nc.Flush()
}

// Notify sends a control message of kind for an app to every node without
// waiting for the server: for messages that may be lost (figures, feed
// entries) and are sent from paths that must not wait.
func (b *Bus) Notify(app, kind string, data []byte) error {
	if err := b.nc.Publish(controlSubject(EncodeToken(app), kind), data); err != nil {
		return fmt.Errorf("control %s: %w", kind, err)
	}
	return nil
}

// TapControl calls f for every control message of kind for one app until
// the returned function is called (the console's feed of an app).
func (b *Bus) TapControl(app, kind string, f func(data []byte)) (func(), error) {
	sub, err := b.nc.Subscribe(controlSubject(EncodeToken(app), kind), func(m *nats.Msg) { f(m.Data) })
	if err != nil {
		return nil, fmt.Errorf("tap control %s of %s: %w", kind, app, err)
	}
	if err := b.nc.Flush(); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("tap control %s of %s: flush: %w", kind, app, err)
	}
	return func() { _ = sub.Unsubscribe() }, nil
}

// SubscribeControl calls f for every control message of kind, of any app.
func (b *Bus) SubscribeControl(kind string, f func(app string, data []byte)) error {
	_, err := b.nc.Subscribe(controlSubject("*", kind), func(m *nats.Msg) {
		tok := m.Subject[len(subjectRoot)+1:]
		tok = tok[:len(tok)-len(".ctl."+kind)]
		app, err := DecodeToken(tok)
		if err != nil {
			return
		}
		f(app, m.Data)
	})
	if err != nil {
		return fmt.Errorf("subscribe control %s: %w", kind, err)
	}
	return b.nc.Flush()
}

// JetStream returns the JetStream handle, for the packages that keep their
// own state in NATS (presence, webhooks).
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// Jobs is JetStream on a connection of its own, for background work that
// stores much (webhook jobs and batches): its traffic never queues ahead
// of the deliveries and client events of the main connection.
func (b *Bus) Jobs() jetstream.JetStream { return b.jobsJS }
