package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushd/pushd/config"
)

// Names of the JetStream objects the dispatcher owns.
const (
	// StreamName is the work-queue stream holding pending webhook jobs.
	StreamName = "PUSHD_WEBHOOKS"
	// StateBucket is the KV bucket holding the state last reported per
	// channel and per member.
	StateBucket = "PUSHD_WEBHOOK_STATE"
	// ConsumerName is the durable pull consumer every node shares.
	ConsumerName = "pushd-webhooks"
	// DeadStreamName is the limits stream keeping the batches that
	// exhausted their retries, for Failed and Replay.
	DeadStreamName = "PUSHD_WEBHOOKS_DEAD"
	// SeqBucket is the KV bucket holding each endpoint's last sequence.
	SeqBucket = "PUSHD_WEBHOOK_SEQ"

	// subjectPrefix+{app} carries event jobs, +{app}.batch stored batches.
	subjectPrefix = "pushd.webhooks."
	batchSuffix   = ".batch"
	// deadPrefix+{app}.{endpoint} carries dead letters.
	deadPrefix = "pushd.webhook_dead."
	// dedupWindow is how long a job id is remembered.
	dedupWindow = 5 * time.Minute
	// maxAckPending bounds jobs out at once; jobs waiting out Delay count
	// too, so it must hold a mass disconnect's worth of vacated events.
	maxAckPending = 50_000
)

// State tells whether what a delayed event announces still holds at send time.
type State interface {
	Occupied(app, channel string) bool // any subscriber on any node
	Present(app, channel, userID string) bool
}

// Options configure a Dispatcher; zero fields take the Pusher defaults.
// Delay, BatchWindow, BatchMax and the retry settings are the defaults of
// apps that do not set their own (config.WebhookTiming).
type Options struct {
	// Apps returns the current settings of an app by key (endpoints,
	// secret, names, filters, timing); an unknown app's jobs are dropped.
	Apps func(appKey string) (config.App, bool)
	// State is asked, after Delay, whether a vacated channel is still empty
	// and a removed member still absent. Nil sends them unconditionally.
	State State
	// Delay holds channel_vacated and member_removed back (3 s).
	Delay time.Duration
	// BatchWindow is how long events for one endpoint gather (250 ms).
	BatchWindow time.Duration
	// BatchMax is the most events in one request (20).
	BatchMax int
	// RetryFor is how long after its oldest event was stored a failing
	// batch is retried (5 min); then it goes to the dead letters.
	RetryFor time.Duration
	// RetryBase is the first retry's wait, doubled each time (1 s).
	RetryBase time.Duration
	// RetryMax caps the wait between retries (60 s).
	RetryMax time.Duration
	// DeadMaxAge is how long dead letters are kept (7 days).
	DeadMaxAge time.Duration
	// Timeout bounds one HTTP request (10 s).
	Timeout time.Duration
	// Logger receives drops and failures (slog.Default()).
	Logger *slog.Logger
	// Client sends the requests (a plain http.Client).
	Client *http.Client
	// Replicas of the job stream and the state bucket (1).
	Replicas int
	// QueueSize bounds the reports waiting to be stored as jobs (65,536);
	// past it new reports are dropped and counted (Stats.QueueDropped).
	QueueSize int
	// Attempted, when set, is told of every attempt at sending a batch,
	// from the goroutine that made it (the console's feed); it must not
	// block.
	Attempted func(app string, a Attempt)
}

// Attempt is one attempt at sending a webhook batch to an endpoint.
type Attempt struct {
	Endpoint string `json:"endpoint"`
	// Delivery is the batch's X-Pushd-Delivery.
	Delivery string `json:"delivery"`
	// Events are the batch's events as sent.
	Events []json.RawMessage `json:"events"`
	// Error says why the attempt failed; "" when it was delivered.
	Error string `json:"error,omitempty"`
}

func (o *Options) defaults() {
	setDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def := config.DefaultWebhookTiming
	setDur(&o.Delay, def.WebhookDelay)
	setDur(&o.BatchWindow, def.WebhookBatchWindow)
	setDur(&o.RetryFor, def.WebhookRetryFor)
	setDur(&o.RetryBase, def.WebhookRetryBase)
	setDur(&o.RetryMax, def.WebhookRetryMax)
	setDur(&o.Timeout, 10*time.Second)
	setDur(&o.DeadMaxAge, config.DefaultWebhookDeadLetterMaxAge)
	o.BatchWindow = min(o.BatchWindow, config.MaxWebhookBatchWindow)
	if o.BatchMax <= 0 {
		o.BatchMax = def.WebhookBatchMax
	}
	if o.QueueSize <= 0 {
		o.QueueSize = defaultQueueSize
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
}

// Dispatcher enqueues webhook jobs and, in Run, sends them.
type Dispatcher struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	dead   jetstream.Stream
	kv     jetstream.KeyValue // reported state
	states *states            // the decisions on it
	seq    jetstream.KeyValue // endpoint sequences
	opts   Options
	log    *slog.Logger
	stats  counters
	queue  queue        // reports waiting to be stored as jobs
	counts countGate    // subscription_count throttle of large channels
	sinks  sinkCache    // NATS sink streams by subject
	graves *DeadLetters // what exhausted its retries
}

// ErrNoApps reports Options without an Apps function.
var ErrNoApps = errors.New("webhook: Options.Apps is required")

// stateTTL bounds how long a reported state is remembered.
const stateTTL = 24 * time.Hour

// New prepares a Dispatcher: it creates or updates (never deletes) the
// work-queue stream PUSHD_WEBHOOKS, the dead-letter stream
// PUSHD_WEBHOOKS_DEAD and the KV buckets PUSHD_WEBHOOK_STATE and
// PUSHD_WEBHOOK_SEQ.
func New(ctx context.Context, js jetstream.JetStream, opts Options) (*Dispatcher, error) {
	if opts.Apps == nil {
		return nil, ErrNoApps
	}
	opts.defaults()
	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName,
		Description: "Pushd webhook jobs",
		Subjects:    []string{subjectPrefix + ">"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Duplicates:  dedupWindow,
		Replicas:    opts.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("webhook stream %s: %w", StreamName, err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      StateBucket,
		Description: "Pushd webhook state last reported per channel and member",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    opts.Replicas,
		// A state unchanged for a day is forgotten, unless it still holds
		// (keep.go writes those again); at worst the next identical report
		// is sent again. This bounds the bucket.
		TTL: stateTTL,
	})
	if err != nil {
		return nil, fmt.Errorf("webhook state bucket %s: %w", StateBucket, err)
	}
	dead, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        DeadStreamName,
		Description: "Pushd webhook batches that exhausted their retries",
		Subjects:    []string{deadPrefix + ">"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		MaxAge:      opts.DeadMaxAge,
		Duplicates:  dedupWindow,
		Replicas:    opts.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("webhook dead-letter stream %s: %w", DeadStreamName, err)
	}
	seq, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      SeqBucket,
		Description: "Pushd webhook sequence last given out per app and endpoint",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    opts.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("webhook sequence bucket %s: %w", SeqBucket, err)
	}
	d := &Dispatcher{js: js, stream: stream, dead: dead, kv: kv, seq: seq, opts: opts, log: opts.Logger,
		states: &states{kv: kv, state: opts.State, log: opts.Logger}}
	d.graves = &DeadLetters{js: js, stream: dead, apps: opts.Apps, send: d.send, stats: &d.stats, log: opts.Logger}
	d.queue.ch = make(chan report, opts.QueueSize)
	return d, nil
}

// Dead returns the dead letters: the batches that exhausted their retries.
func (d *Dispatcher) Dead() *DeadLetters { return d.graves }

// Stats returns the dispatcher's counters.
func (d *Dispatcher) Stats() Stats {
	s := d.stats.snapshot()
	s.Queued = uint64(len(d.queue.ch))
	s.QueueDropped = d.queue.dropped.Load()
	return s
}
