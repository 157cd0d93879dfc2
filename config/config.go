// Package config holds Pushd's settings: the server's addresses and the apps
// it serves, with defaults that follow Pusher and webman/push.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Config is the whole server configuration. The zero value plus Defaults is a
// working single-node server with no apps.
type Config struct {
	// WSAddr is the WebSocket listener (webman/push: 3131).
	WSAddr string `yaml:"ws_addr"`
	// APIAddr is the HTTP API listener (webman/push: 3232).
	APIAddr string `yaml:"api_addr"`
	// DataDir keeps JetStream storage and the generated app credentials.
	DataDir string `yaml:"data_dir"`
	// NATSURL connects to an external NATS; empty starts an embedded server.
	NATSURL string `yaml:"nats_url"`
	// NATSListen opens a client listener on the embedded server ("" = none).
	NATSListen string `yaml:"nats_listen"`
	// NATSListenAuth secures that listener; with no credentials set, pushd
	// generates a user and password in the data directory.
	NATSListenAuth NATSListenAuth `yaml:"nats_listen_auth"`
	// NATS holds the credentials and TLS settings of an external NATS.
	NATS NATSAuth `yaml:"nats"`
	// Replicas of the streams and buckets; 0 picks 3 when the NATS cluster
	// has 3 or more servers, else 1.
	Replicas int `yaml:"replicas"`
	// TLSCert and TLSKey, when set, make both ports speak TLS (wss://,
	// https://); the files are re-read on SIGHUP and when they change.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// ConsolePassword turns on the debug console at /console on the API
	// port (HTTP Basic auth, any user name). Without it the console is off,
	// unless ConsoleWithSecret lets each app's key and secret log in.
	ConsolePassword   string `yaml:"console_password"`
	ConsoleWithSecret bool   `yaml:"console_with_secret"`
	// NodeName is this node's readable name in the console (its graphs,
	// its connections, the event stream); default the host name. It is
	// only shown: socket ids keep the node's random id.
	NodeName string `yaml:"node_name"`
	// AdminToken turns on the admin API (/admin/… on the API port: apps
	// listed, created, changed, rotated and deleted at run time) and the
	// console's app management, for callers that send it as a bearer
	// token; at least 16 characters. Empty (the default): both are off.
	// PUSHD_ADMIN_TOKEN sets it without writing it in the file.
	AdminToken string `yaml:"admin_token"`
	// PprofAddr serves Go's /debug/pprof profiles ("" = off).
	PprofAddr string `yaml:"pprof_addr"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// LogFormat is text or json.
	LogFormat string `yaml:"log_format"`
	// PongTimeout is how long a pinged idle client has to answer (Pusher: 30 s).
	PongTimeout time.Duration `yaml:"pong_timeout"`
	// APIAuthFailuresPerSec limits failed API authentications (unknown
	// key, bad or missing signature) per remote address, burst included
	// (default 100); past it the address's failures get 429 instead of 401
	// until its bucket refills. Correctly signed requests never count and
	// are never refused by it.
	APIAuthFailuresPerSec int `yaml:"api_auth_failures_per_second"`
	// MaxConnections caps the sockets of the WebSocket port on this process,
	// of all apps and handshakes included; more connections are refused
	// with 4004. 0 derives it from the open-file limit (RLIMIT_NOFILE) less
	// 500 files for NATS, the API and data files (half the limit when it is
	// below 1000); a value above the limit stops the start.
	MaxConnections int `yaml:"max_connections"`
	// ShutdownTimeout bounds a graceful shutdown.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// WebhookDeadLetterMaxAge is how long webhook batches that exhausted
	// their retries are kept in the dead-letter stream for `pushd webhooks
	// replay` (7 days).
	WebhookDeadLetterMaxAge time.Duration `yaml:"webhook_dead_letter_max_age"`
	// ResumeWindowBytes is the memory each node gives to the latest events
	// of the channels it serves (default 32 MiB), from which resumes of
	// recently missed events are answered without reading the stream;
	// negative keeps no window (every resume reads the stream).
	ResumeWindowBytes int `yaml:"resume_window_bytes"`
	// ResumeWindowLinger is how long a node keeps receiving a channel's
	// events after its last local subscriber left (default 30 s), so that a
	// client that reconnects within it resumes from memory; negative: not
	// at all. At most 10 minutes.
	ResumeWindowLinger time.Duration `yaml:"resume_window_linger"`
	// Apps are the applications this server serves, identified by key.
	Apps []App `yaml:"apps"`
}

// NATSAuth are the usual ways to authenticate to NATS; set at most one of
// user/password, token, nkey seed file and creds file.
type NATSAuth struct {
	User      string `yaml:"user"`
	Password  string `yaml:"password"`
	Token     string `yaml:"token"`
	NKeyFile  string `yaml:"nkey_file"`  // NKey seed file
	CredsFile string `yaml:"creds_file"` // JWT + seed (.creds)
	// TLS: a CA to trust, and a client certificate when the server asks.
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// NATSListenAuth secures the embedded server's client listener. Set at most
// one of user/password, token and nkey seed file (the same credentials the
// other gateways put in their nats section); cert_file and key_file turn on
// TLS, and ca_file then requires client certificates signed by that CA.
// Without user/password, token, nkey_file or ca_file, pushd generates a user
// and password and keeps them in the data directory: the listener never
// accepts a client without credentials.
type NATSListenAuth struct {
	User     string `yaml:"user"`
	Password string `yaml:"password"`
	Token    string `yaml:"token"`
	NKeyFile string `yaml:"nkey_file"` // NKey seed file; its public key may connect
	CertFile string `yaml:"cert_file"` // server certificate (PEM)
	KeyFile  string `yaml:"key_file"`
	CAFile   string `yaml:"ca_file"` // client certificates must be signed by it (mTLS)
}

// HasCredentials reports whether clients must present configured
// credentials: user/password, token, nkey or a client certificate.
func (a NATSListenAuth) HasCredentials() bool {
	return a.User != "" || a.Password != "" || a.Token != "" || a.NKeyFile != "" || a.CAFile != ""
}

// App is one application: credentials, switches and limits.
type App struct {
	// ID, when set, must match the id in /apps/{id}/... (404 otherwise);
	// when empty any id is accepted, as webman/push does.
	ID     string `yaml:"id"`
	Key    string `yaml:"key"`
	Secret string `yaml:"secret"`
	// PreviousSecret is the secret before the last rotation: API requests
	// and channel and user authentication signed with it are accepted
	// until PreviousSecretExpires, as with Secret; webhooks are signed
	// with Secret only. Both empty: no previous secret.
	PreviousSecret        string    `yaml:"previous_secret"`
	PreviousSecretExpires time.Time `yaml:"previous_secret_expires,omitempty"`
	// Disabled apps refuse connections with 4003 and API calls with 403.
	Disabled bool `yaml:"disabled"`
	// DisableClientEvents refuses client- events with 4301.
	DisableClientEvents bool `yaml:"disable_client_events"`
	// AllowedOrigins, when set, are the only WebSocket Origin headers
	// accepted ("*" allows any); others are refused with 4009.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// EncryptionMasterKey is the app's master key for end-to-end
	// encrypted channels (private-encrypted-), base64 of 32 bytes as the
	// server SDKs' encryptionMasterKeyBase64. The server never needs it to
	// relay: with it, the console encrypts what it triggers on such a
	// channel. Empty: none.
	EncryptionMasterKey string `yaml:"encryption_master_key"`
	// WebhookURL receives Pusher-style webhooks.
	WebhookURL string `yaml:"webhook_url"`
	// WebhookEvents limits which webhook events are sent (empty: all but
	// subscription_count, user_online and user_offline, which are sent only
	// when named). Naming subscription_count here is also the app's
	// "subscription counting" switch, as Pusher has one setting for both:
	// the subscription_count webhook and the
	// pusher_internal:subscription_count event to every subscriber of a
	// public or private channel (never presence) whose count changed. To
	// get the client event without webhooks, name it and set no URL.
	WebhookEvents []string `yaml:"webhook_events"`
	// WebhookNames is "pusher" or "webman": webman/push's names
	// (channel_added, channel_removed, user_added, user_removed) sent to
	// ChannelHookURL and UserHookURL (else WebhookURL). Empty follows
	// Compat.
	WebhookNames   string `yaml:"webhook_names"`
	ChannelHookURL string `yaml:"channel_hook"`
	UserHookURL    string `yaml:"user_hook"`
	// Webhooks are more endpoints, each with its own URL or NATS subject,
	// filter, headers and naming (with the three above, at most
	// MaxWebhookEndpoints).
	Webhooks []WebhookEndpoint `yaml:"webhooks"`
	// WebhookTiming are the app's debounce delay, batching and retries.
	WebhookTiming `yaml:",inline"`
	// Compat is "pusher" (the default) or "webman": answer the HTTP API and
	// send webhooks exactly as webman/push's server does, and leave unset
	// the limits webman/push does not have (see docs/protocol.md).
	Compat string `yaml:"compat"`

	Limits `yaml:",inline"`
}

// Compatibility modes of an app (App.Compat) and webhook namings
// (App.WebhookNames).
const (
	CompatPusher = "pusher"
	CompatWebman = "webman"
)

// Webman reports whether the app is in webman/push compatibility mode.
func (a *App) Webman() bool { return a.Compat == CompatWebman }

// WebmanWebhooks reports whether the app's webhooks carry webman/push's
// names and shape: webhook_names says so, or it is unset and the app is
// in webman mode.
func (a *App) WebmanWebhooks() bool {
	if a.WebhookNames != "" {
		return a.WebhookNames == CompatWebman
	}
	return a.Webman()
}

// Defaults fills the app's unset limits: Pusher's, or in webman mode
// webman/push's (which has none of its own for event size, channels per
// event, event name length and client event rate; see WebmanLimits).
func (a *App) Defaults() {
	if a.Webman() {
		a.Limits.webmanDefaults()
	}
	a.Limits.Defaults()
	a.WebhookTiming.defaults()
}

// SubscriptionCountEvent is the webhook event name that switches on
// subscription counting when WebhookEvents names it.
const SubscriptionCountEvent = "subscription_count"

// SubscriptionCounting reports whether the app has Pusher's "subscription
// counting" on: WebhookEvents, or an endpoint's events, names
// subscription_count. It governs both the subscription_count webhook and the
// pusher_internal:subscription_count client event.
func (a *App) SubscriptionCounting() bool {
	if slices.Contains(a.WebhookEvents, SubscriptionCountEvent) {
		return true
	}
	for _, e := range a.Webhooks {
		if slices.Contains(e.Events, SubscriptionCountEvent) {
			return true
		}
	}
	return false
}

// Limits are the per-app limits; zero means the Pusher default.
type Limits struct {
	ActivityTimeout      int           `yaml:"activity_timeout"`         // seconds, 120
	MaxConnections       int           `yaml:"max_connections"`          // 0 = unlimited
	MaxEventBytes        int           `yaml:"max_event_bytes"`          // 10240
	MaxChannelsPerEvent  int           `yaml:"max_channels_per_event"`   // 100
	MaxBatchEvents       int           `yaml:"max_batch_events"`         // 10
	MaxChannelNameLength int           `yaml:"max_channel_name_length"`  // 200
	MaxEventNameLength   int           `yaml:"max_event_name_length"`    // 200
	MaxChannelsPerSocket int           `yaml:"max_channels_per_socket"`  // 1000
	ClientEventsPerSec   int           `yaml:"client_events_per_second"` // 10
	HistoryMaxAge        time.Duration `yaml:"history_max_age"`          // 1h
	HistoryMaxBytes      int64         `yaml:"history_max_bytes"`        // 64 MiB
	CacheTTL             time.Duration `yaml:"cache_ttl"`                // 30m
	// UserAuthTimeout enables Pusher's "authorized connections": a
	// connection that neither signs in nor subscribes to a private or
	// presence channel within it is closed with 4009 (0 = off).
	UserAuthTimeout time.Duration `yaml:"user_authentication_timeout"`
	// APIRequestsPerSec limits the app's HTTP API calls (0 = no limit);
	// beyond it the API answers 429 with Retry-After.
	APIRequestsPerSec  int `yaml:"api_requests_per_second"`
	MaxPresenceMembers int `yaml:"max_presence_members"` // 100
	MaxUserInfoBytes   int `yaml:"max_user_info_bytes"`  // 1024
	MaxUserIDLength    int `yaml:"max_user_id_length"`   // 128
}

// Defaults fills every unset field with its default.
func (c *Config) Defaults() {
	if c.WSAddr == "" {
		c.WSAddr = "127.0.0.1:3131"
	}
	if c.APIAddr == "" {
		c.APIAddr = "127.0.0.1:3232"
	}
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.LogFormat == "" {
		c.LogFormat = "text"
	}
	if c.NodeName == "" {
		c.NodeName = hostName()
	}
	if c.PongTimeout == 0 {
		c.PongTimeout = 30 * time.Second
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.APIAuthFailuresPerSec == 0 {
		c.APIAuthFailuresPerSec = 100
	}
	if c.WebhookDeadLetterMaxAge == 0 {
		c.WebhookDeadLetterMaxAge = DefaultWebhookDeadLetterMaxAge
	}
	if c.ResumeWindowBytes == 0 {
		c.ResumeWindowBytes = 32 << 20
	}
	if c.ResumeWindowLinger == 0 {
		c.ResumeWindowLinger = 30 * time.Second
	}
	for i := range c.Apps {
		c.Apps[i].Defaults()
	}
}

// Defaults fills every unset limit with its Pusher default.
func (l *Limits) Defaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.ActivityTimeout, 120)
	def(&l.MaxEventBytes, 10240)
	def(&l.MaxChannelsPerEvent, 100)
	def(&l.MaxBatchEvents, 10)
	def(&l.MaxChannelNameLength, 200)
	def(&l.MaxEventNameLength, 200)
	def(&l.MaxChannelsPerSocket, 1000)
	def(&l.ClientEventsPerSec, 10)
	def(&l.MaxPresenceMembers, 100)
	def(&l.MaxUserInfoBytes, 1024)
	def(&l.MaxUserIDLength, 128)
	if l.HistoryMaxAge == 0 {
		l.HistoryMaxAge = time.Hour
	}
	if l.HistoryMaxBytes == 0 {
		l.HistoryMaxBytes = 64 << 20
	}
	if l.CacheTTL == 0 {
		l.CacheTTL = 30 * time.Minute
	}
}

// Validate reports what makes the configuration unusable: every value a
// field cannot take (each naming its field), else the first problem
// between fields.
func (c *Config) Validate() error {
	if err := c.validateFields(); err != nil {
		return err
	}
	keys := map[string]bool{}
	ids := map[string]string{}   // app id -> key
	sinks := map[string]string{} // NATS sink subject -> "app/endpoint"
	for i, a := range c.Apps {
		if a.Key == "" {
			return fieldErr("key", "app %d: key and secret are required", i)
		}
		if a.Secret == "" {
			return fieldErr("secret", "app %d: key and secret are required", i)
		}
		if keys[a.Key] {
			return fieldErr("key", "app %d: duplicate key %q", i, a.Key)
		}
		keys[a.Key] = true
		if other, taken := ids[a.ID]; taken && a.ID != "" {
			return fieldErr("id", "app %d (%q): duplicate id %q: app %q has it", i, a.Key, a.ID, other)
		}
		ids[a.ID] = a.Key
		if err := a.Validate(); err != nil {
			return err
		}
		for j, e := range a.Webhooks {
			if e.NATSSubject == "" {
				continue
			}
			if other, taken := sinks[e.NATSSubject]; taken {
				return fieldErr(fmt.Sprintf("webhooks[%d].nats_subject", j), "app %q: webhooks[%d].nats_subject (%s): %q is already the sink of %s; a sink's subject carries one sequence", a.Key, j, e.Name, e.NATSSubject, other)
			}
			sinks[e.NATSSubject] = a.Key + "/" + e.Name
		}
	}
	if c.AdminToken != "" && len(c.AdminToken) < MinAdminToken {
		return fmt.Errorf("admin_token must be at least %d characters (a random one: openssl rand -hex 32)", MinAdminToken)
	}
	n := 0
	for _, set := range []bool{c.NATS.User != "" || c.NATS.Password != "", c.NATS.Token != "", c.NATS.NKeyFile != "", c.NATS.CredsFile != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return errors.New("nats: set only one of user/password, token, nkey_file, creds_file")
	}
	if (c.NATS.CertFile == "") != (c.NATS.KeyFile == "") {
		return errors.New("nats: cert_file and key_file go together")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("tls_cert and tls_key go together")
	}
	if c.MaxConnections < 0 {
		return errors.New("max_connections must not be negative (0: derived from the open-file limit)")
	}
	if c.APIAuthFailuresPerSec < 0 {
		return errors.New("api_auth_failures_per_second must not be negative")
	}
	if d := c.WebhookDeadLetterMaxAge; d != 0 && (d < time.Hour || d > 365*24*time.Hour) {
		return fmt.Errorf("webhook_dead_letter_max_age must be between 1h and 8760h, got %s", d)
	}
	if c.Replicas < 0 || c.Replicas > 5 {
		return errors.New("replicas must be between 1 and 5")
	}
	if c.ResumeWindowLinger > 10*time.Minute {
		return fmt.Errorf("resume_window_linger %s is over 10m: a node would receive the events of channels nobody there reads", c.ResumeWindowLinger)
	}
	return c.validateNATSListen()
}

// MaxNodeName is the longest node_name.
const MaxNodeName = 64

// hostName is the default node_name: the host name, or "pushd" when the
// system has none to give.
func hostName() string {
	if h, err := os.Hostname(); err == nil && h != "" && checkNodeName(h) == nil {
		return h
	}
	return "pushd"
}

// checkNodeName refuses a node name that is too long or has control
// characters (it is shown in pages and logs as it is).
func checkNodeName(n string) error {
	if len(n) > MaxNodeName {
		return fmt.Errorf("is %d bytes, at most %d", len(n), MaxNodeName)
	}
	for _, r := range n {
		if r < ' ' || r == 0x7f || r == utf8.RuneError {
			return fmt.Errorf("%q has a control character or invalid UTF-8", n)
		}
	}
	return nil
}

// WindowBytes is the resume window's memory (0: none).
func (c *Config) WindowBytes() int { return max(c.ResumeWindowBytes, 0) }

// WindowLinger is how long channels linger for the resume window (0: not at
// all; also when there is no window).
func (c *Config) WindowLinger() time.Duration {
	if c.WindowBytes() == 0 {
		return 0
	}
	return max(c.ResumeWindowLinger, 0)
}

// Load reads a YAML configuration file. Unknown fields are an error, so a
// typo does not silently fall back to a default.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("open config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return c, fmt.Errorf("parse config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes a YAML configuration. An empty or comments-only document is
// the zero configuration.
func Parse(b []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, err
	}
	return c, nil
}
