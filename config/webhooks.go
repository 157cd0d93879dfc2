package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// WebhookEndpoint is one more destination of an app's webhooks, besides
// the shorthand webhook_url, channel_hook and user_hook: an HTTP URL or a
// NATS JetStream subject (the sink), each with its own filter, headers and
// naming, and its own delivery sequence.
type WebhookEndpoint struct {
	// Name identifies the endpoint within its app: its sequence, its dead
	// letters and the X-Pushd-Endpoint header carry it ([A-Za-z0-9_-],
	// at most 64 characters; webhook_url, channel_hook and user_hook are
	// taken by the shorthand settings).
	Name string `yaml:"name"`
	// URL receives the webhooks as HTTP POSTs (http or https).
	URL string `yaml:"url"`
	// NATSSubject, instead of URL, publishes every event as one JetStream
	// message on this subject, in sequence order.
	NATSSubject string `yaml:"nats_subject"`
	// NATSStream, when set, is created (or updated) at start to hold
	// NATSSubject: a limits stream keeping messages for 7 days. Empty: a
	// stream the operator made must capture the subject.
	NATSStream string `yaml:"nats_stream"`
	// Events limits the events sent here, Pusher or webman names (empty:
	// all but subscription_count, user_online and user_offline, which are
	// sent only where named; naming subscription_count here also turns
	// subscription counting on, as webhook_events does).
	Events []string `yaml:"events"`
	// Headers are added to every request (or NATS message); they may not
	// replace the ones Pushd sets (Content-Type, X-Pusher-*, X-Pushd-*).
	Headers map[string]string `yaml:"headers"`
	// Names is "pusher" or "webman": the event names and shape, as
	// webhook_names; empty follows the app's webhook_names.
	Names string `yaml:"names"`
}

// WebhookTiming are an app's webhook delivery settings; zero takes the
// default (see DefaultWebhookTiming).
type WebhookTiming struct {
	// WebhookDelay holds channel_vacated and member_removed back, sent
	// only if the channel (member) is still gone then (3 s).
	WebhookDelay time.Duration `yaml:"webhook_delay"`
	// WebhookBatchWindow is how long events for one endpoint gather into
	// one request (250 ms, at most MaxWebhookBatchWindow).
	WebhookBatchWindow time.Duration `yaml:"webhook_batch_window"`
	// WebhookBatchMax is the most events in one request (20, at most 100).
	WebhookBatchMax int `yaml:"webhook_batch_max"`
	// WebhookRetryFor is how long a failing batch is retried after its
	// oldest event was stored (5 min); then it goes to the dead letters.
	WebhookRetryFor time.Duration `yaml:"webhook_retry_for"`
	// WebhookRetryBase is the wait before the first retry, doubled on each
	// further one (1 s).
	WebhookRetryBase time.Duration `yaml:"webhook_retry_base"`
	// WebhookRetryMax caps the wait between retries (60 s).
	WebhookRetryMax time.Duration `yaml:"webhook_retry_max"`
}

// DefaultWebhookTiming is what an app that sets no webhook timing gets.
var DefaultWebhookTiming = WebhookTiming{
	WebhookDelay:       3 * time.Second,
	WebhookBatchWindow: 250 * time.Millisecond,
	WebhookBatchMax:    20,
	WebhookRetryFor:    5 * time.Minute,
	WebhookRetryBase:   time.Second,
	WebhookRetryMax:    time.Minute,
}

// Bounds of the webhook settings.
const (
	// MaxWebhookEndpoints bounds an app's endpoints, the shorthand ones
	// (webhook_url, channel_hook, user_hook) included.
	MaxWebhookEndpoints = 10
	// MaxWebhookBatchWindow bounds webhook_batch_window: jobs are held
	// that long before they are stored as a batch, within the job
	// consumer's ack wait.
	MaxWebhookBatchWindow = 5 * time.Second
	// MaxWebhookBatchMax bounds webhook_batch_max.
	MaxWebhookBatchMax = 100
	// DefaultWebhookDeadLetterMaxAge is how long dead letters are kept.
	DefaultWebhookDeadLetterMaxAge = 7 * 24 * time.Hour
)

// Names of the shorthand endpoints (webhook_url, channel_hook, user_hook).
const (
	EndpointWebhookURL  = "webhook_url"
	EndpointChannelHook = "channel_hook"
	EndpointUserHook    = "user_hook"
)

// defaults fills unset webhook timing with DefaultWebhookTiming.
func (w *WebhookTiming) defaults() {
	d := DefaultWebhookTiming
	setDur := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	setDur(&w.WebhookDelay, d.WebhookDelay)
	setDur(&w.WebhookBatchWindow, d.WebhookBatchWindow)
	setDur(&w.WebhookRetryFor, d.WebhookRetryFor)
	setDur(&w.WebhookRetryBase, d.WebhookRetryBase)
	setDur(&w.WebhookRetryMax, d.WebhookRetryMax)
	if w.WebhookBatchMax == 0 {
		w.WebhookBatchMax = d.WebhookBatchMax
	}
}

// validate checks the timing of an app whose zero fields mean "default".
func (w WebhookTiming) validate() error {
	between := func(field string, v, lo, hi time.Duration) error {
		if v != 0 && (v < lo || v > hi) {
			return fieldErr(field, "%s must be between %s and %s, got %s", field, lo, hi, v)
		}
		return nil
	}
	for _, err := range []error{
		between("webhook_delay", w.WebhookDelay, time.Millisecond, 10*time.Minute),
		between("webhook_batch_window", w.WebhookBatchWindow, time.Millisecond, MaxWebhookBatchWindow),
		between("webhook_retry_for", w.WebhookRetryFor, time.Second, 24*time.Hour),
		between("webhook_retry_base", w.WebhookRetryBase, time.Millisecond, time.Hour),
		between("webhook_retry_max", w.WebhookRetryMax, time.Millisecond, time.Hour),
	} {
		if err != nil {
			return err
		}
	}
	if w.WebhookBatchMax < 0 || w.WebhookBatchMax > MaxWebhookBatchMax {
		return fieldErr("webhook_batch_max", "webhook_batch_max must be between 1 and %d, got %d", MaxWebhookBatchMax, w.WebhookBatchMax)
	}
	base, maxWait := w.WebhookRetryBase, w.WebhookRetryMax
	if base == 0 {
		base = DefaultWebhookTiming.WebhookRetryBase
	}
	if maxWait == 0 {
		maxWait = DefaultWebhookTiming.WebhookRetryMax
	}
	if base > maxWait {
		return fieldErr("webhook_retry_base", "webhook_retry_base (%s) must not exceed webhook_retry_max (%s)", base, maxWait)
	}
	return nil
}

var endpointName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// reservedHeaders are the request headers Pushd sets itself.
func reservedHeader(name string) bool {
	n := strings.ToLower(name)
	return n == "content-type" || n == "content-length" || n == "host" ||
		strings.HasPrefix(n, "x-pusher-") || strings.HasPrefix(n, "x-pushd-") ||
		strings.HasPrefix(n, "nats-") || strings.HasPrefix(n, "pushd-")
}

// validateWebhooks checks an app's webhook endpoints and timing; errors
// name the setting at fault (FieldError).
func validateWebhooks(a App) error {
	if err := a.WebhookTiming.validate(); err != nil {
		return fieldErr(ErrorField(err), "app %q: %w", a.Key, err)
	}
	shorthand := 0
	for _, s := range []struct{ field, url string }{
		{EndpointWebhookURL, a.WebhookURL}, {EndpointChannelHook, a.ChannelHookURL}, {EndpointUserHook, a.UserHookURL},
	} {
		if s.url == "" {
			continue
		}
		shorthand++
		if err := validateURL(s.url); err != nil {
			return fieldErr(s.field, "app %q: %s: %w", a.Key, s.field, err)
		}
	}
	if n := shorthand + len(a.Webhooks); n > MaxWebhookEndpoints {
		return fieldErr("webhooks", "app %q: webhooks: %d endpoints (with webhook_url, channel_hook and user_hook), at most %d", a.Key, n, MaxWebhookEndpoints)
	}
	seen := map[string]bool{}
	for i, e := range a.Webhooks {
		field := fmt.Sprintf("webhooks[%d]", i)
		if suffix, err := e.validate(seen); err != nil {
			return fieldErr(field+suffix, "app %q: %s%w", a.Key, field, err)
		}
	}
	return nil
}

// validate checks one endpoint; it returns the field's suffix (".url") and
// an error that starts with it (".url (x): ...") so the caller can prefix
// "webhooks[i]".
func (e WebhookEndpoint) validate(seen map[string]bool) (string, error) {
	switch {
	case e.Name == "":
		return ".name", fmt.Errorf(".name is required")
	case !endpointName.MatchString(e.Name):
		return ".name", fmt.Errorf(".name %q: use 1 to 64 of A-Z a-z 0-9 _ -", e.Name)
	case e.Name == EndpointWebhookURL || e.Name == EndpointChannelHook || e.Name == EndpointUserHook:
		return ".name", fmt.Errorf(".name %q is the shorthand setting's own name; pick another", e.Name)
	case seen[e.Name]:
		return ".name", fmt.Errorf(".name %q: used twice", e.Name)
	}
	seen[e.Name] = true
	switch {
	case e.URL == "" && e.NATSSubject == "":
		return ".url", fmt.Errorf(" (%s): set url or nats_subject", e.Name)
	case e.URL != "" && e.NATSSubject != "":
		return ".url", fmt.Errorf(" (%s): set url or nats_subject, not both (make two endpoints to have both)", e.Name)
	case e.URL != "":
		if err := validateURL(e.URL); err != nil {
			return ".url", fmt.Errorf(".url (%s): %w", e.Name, err)
		}
		if e.NATSStream != "" {
			return ".nats_stream", fmt.Errorf(".nats_stream (%s): only with nats_subject", e.Name)
		}
	default:
		if err := validateSubject(e.NATSSubject); err != nil {
			return ".nats_subject", fmt.Errorf(".nats_subject (%s): %w", e.Name, err)
		}
		if e.NATSStream != "" && !validStreamName(e.NATSStream) {
			return ".nats_stream", fmt.Errorf(".nats_stream (%s): %q is not a stream name (no white space, '.', '*', '>', '/' or '\\')", e.Name, e.NATSStream)
		}
	}
	for _, n := range e.Events {
		if !KnownWebhookEvent(n) {
			return ".events", fmt.Errorf(".events (%s): unknown event %q (%s)", e.Name, n, unknownEventHint)
		}
	}
	if e.Names != "" && e.Names != CompatPusher && e.Names != CompatWebman {
		return ".names", fmt.Errorf(".names (%s): must be pusher or webman, got %q", e.Name, e.Names)
	}
	for k, v := range e.Headers {
		switch {
		case !validHeaderName(k):
			return ".headers", fmt.Errorf(".headers (%s): %q is not a header name", e.Name, k)
		case reservedHeader(k):
			return ".headers", fmt.Errorf(".headers (%s): %q is set by Pushd", e.Name, k)
		case strings.ContainsAny(v, "\r\n\x00"):
			return ".headers", fmt.Errorf(".headers (%s): the value of %q has a line break", e.Name, k)
		}
	}
	return "", nil
}

// validateURL accepts absolute http and https URLs with a host.
func validateURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: the scheme must be http or https", redactURL(u))
	}
	if u.Host == "" {
		return fmt.Errorf("%q: no host", redactURL(u))
	}
	return nil
}

// redactURL drops credentials and query, which often hold tokens.
func redactURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment = nil, "", ""
	return c.String()
}

// validateSubject accepts a NATS subject without wildcards outside
// Pushd's own (pushd.) and the system's ($) namespaces.
func validateSubject(s string) error {
	if s == "" || strings.ContainsAny(s, " \t\r\n*>") || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.Contains(s, "..") {
		return fmt.Errorf("%q is not a NATS subject without wildcards", s)
	}
	if strings.HasPrefix(s, "pushd.") || strings.HasPrefix(s, "$") || strings.HasPrefix(s, "_INBOX.") {
		return fmt.Errorf("%q: pushd., $ and _INBOX. subjects are reserved", s)
	}
	return nil
}

func validStreamName(s string) bool {
	return s != "" && len(s) <= 255 && !strings.ContainsAny(s, " \t\r\n.*>/\\")
}

// validHeaderName reports whether k is an HTTP token (RFC 9110).
func validHeaderName(k string) bool {
	return k != "" && !slices.ContainsFunc([]byte(k), func(c byte) bool {
		return c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0
	})
}
