package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeConfig writes a YAML file in a fresh temporary directory.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pushd.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoad(t *testing.T) {
	path := writeConfig(t, `
# Pushd test configuration
ws_addr: 0.0.0.0:3131
api_addr: 0.0.0.0:3232
data_dir: /var/lib/pushd
nats_url: nats://127.0.0.1:4222
log_level: debug
log_format: json
pong_timeout: 30s
shutdown_timeout: 1m30s
max_connections: 15000
apps:
  - id: "1"
    key: app-key
    secret: app-secret
    max_connections: 300
    webhook_url: http://127.0.0.1:8080/hook
    max_event_bytes: 20480
    activity_timeout: 55
    cache_ttl: 10m
    history_max_age: 2h
    history_max_bytes: 1048576
  - key: noid-key
    secret: noid-secret
    disabled: true
    disable_client_events: true
    client_events_per_second: 5
    webhook_names: webman
    channel_hook: http://127.0.0.1:8080/channel
    user_hook: http://127.0.0.1:8080/user
    webhook_events: [channel_occupied, member_added]
    max_presence_members: 50
`)
	got, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		WSAddr:          "0.0.0.0:3131",
		APIAddr:         "0.0.0.0:3232",
		DataDir:         "/var/lib/pushd",
		NATSURL:         "nats://127.0.0.1:4222",
		LogLevel:        "debug",
		LogFormat:       "json",
		PongTimeout:     30 * time.Second,
		ShutdownTimeout: 90 * time.Second,
		MaxConnections:  15000,
		Apps: []App{
			{
				ID: "1", Key: "app-key", Secret: "app-secret", WebhookURL: "http://127.0.0.1:8080/hook",
				Limits: Limits{MaxConnections: 300, MaxEventBytes: 20480, ActivityTimeout: 55, CacheTTL: 10 * time.Minute,
					HistoryMaxAge: 2 * time.Hour, HistoryMaxBytes: 1 << 20},
			},
			{
				Key: "noid-key", Secret: "noid-secret", Disabled: true, DisableClientEvents: true,
				WebhookNames: "webman", ChannelHookURL: "http://127.0.0.1:8080/channel",
				UserHookURL: "http://127.0.0.1:8080/user", WebhookEvents: []string{"channel_occupied", "member_added"},
				Limits: Limits{ClientEventsPerSec: 5, MaxPresenceMembers: 50},
			},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate of the loaded file: got %v, want nil", err)
	}
}

// A file with nothing but comments is the zero configuration, which Defaults
// turns into a working server.
func TestLoadEmpty(t *testing.T) {
	for _, yaml := range []string{"", "# all defaults\n", "---\n"} {
		got, err := Load(writeConfig(t, yaml))
		if err != nil {
			t.Fatalf("Load(%q): got %v, want the zero Config", yaml, err)
		}
		if !reflect.DeepEqual(got, Config{}) {
			t.Errorf("Load(%q): got %+v, want the zero Config", yaml, got)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string // want: a part of the error message
	}{
		{"unknown top-level field", "ws_adr: :3131\n", "ws_adr"},
		{"unknown app field", "apps:\n  - key: k\n    secert: s\n", "secert"},
		{"unknown limit", "apps:\n  - key: k\n    secret: s\n    max_event_size: 5\n", "max_event_size"},
		{"malformed duration", "pong_timeout: 30 seconds\n", "30 seconds"},
		{"duration without unit", "pong_timeout: 30\n", "time.Duration"},
		{"number for the app list", "apps: 5\n", "line 1"},
		{"limit not a number", "apps:\n  - key: k\n    secret: s\n    max_event_bytes: lots\n", "lots"},
		{"malformed YAML", "apps:\n  - key: [\n", "parse config"},
		{"tabs", "ws_addr:\t:3131\n\tapi_addr: x\n", "parse config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.yaml)
			_, err := Load(path)
			if err == nil {
				t.Fatalf("Load(%q): got nil error, want one mentioning %q", tt.yaml, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load(%q): got %q, want an error mentioning %q", tt.yaml, err, tt.want)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("Load of a missing file: got %v, want a not-exist error", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

func TestDefaults(t *testing.T) {
	c := Config{Apps: []App{
		{Key: "a", Secret: "s"},
		{Key: "b", Secret: "s", Limits: Limits{MaxEventBytes: 5000, ActivityTimeout: 30, CacheTTL: time.Minute, MaxConnections: 7}},
	}}
	c.Defaults()

	top := []struct {
		name      string
		got, want any
	}{
		{"ws_addr", c.WSAddr, "127.0.0.1:3131"},
		{"api_addr", c.APIAddr, "127.0.0.1:3232"},
		{"data_dir", c.DataDir, "./data"},
		{"nats_url", c.NATSURL, ""},
		{"nats_listen", c.NATSListen, ""},
		{"log_level", c.LogLevel, "info"},
		{"log_format", c.LogFormat, "text"},
		{"pong_timeout", c.PongTimeout, 30 * time.Second},
		{"shutdown_timeout", c.ShutdownTimeout, 10 * time.Second},
		{"resume_window_bytes", c.ResumeWindowBytes, 32 << 20},
		{"resume_window_linger", c.ResumeWindowLinger, 30 * time.Second},
	}
	for _, tt := range top {
		if tt.got != tt.want {
			t.Errorf("Defaults %s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}

	if h, err := os.Hostname(); err == nil && c.NodeName != h {
		t.Errorf("Defaults node_name: got %q, want the host name %q", c.NodeName, h)
	}

	wantDefault := Limits{
		ActivityTimeout:      120,
		MaxConnections:       0, // unlimited
		MaxEventBytes:        10240,
		MaxChannelsPerEvent:  100,
		MaxBatchEvents:       10,
		MaxChannelNameLength: 200,
		MaxEventNameLength:   200,
		MaxChannelsPerSocket: 1000,
		ClientEventsPerSec:   10,
		HistoryMaxAge:        time.Hour,
		HistoryMaxBytes:      64 << 20,
		CacheTTL:             30 * time.Minute,
		MaxPresenceMembers:   100,
		MaxUserInfoBytes:     1024,
		MaxUserIDLength:      128,
	}
	if got := c.Apps[0].Limits; got != wantDefault {
		t.Errorf("Defaults app limits:\n got %+v\nwant %+v", got, wantDefault)
	}
	wantSet := wantDefault
	wantSet.MaxEventBytes, wantSet.ActivityTimeout, wantSet.CacheTTL, wantSet.MaxConnections = 5000, 30, time.Minute, 7
	if got := c.Apps[1].Limits; got != wantSet {
		t.Errorf("Defaults keeps set limits:\n got %+v\nwant %+v", got, wantSet)
	}

	// Defaults is idempotent and keeps explicit top-level settings.
	c2 := Config{WSAddr: ":1", LogLevel: "warn", PongTimeout: time.Second}
	c2.Defaults()
	c2.Defaults()
	if c2.WSAddr != ":1" || c2.LogLevel != "warn" || c2.PongTimeout != time.Second {
		t.Errorf("Defaults overrode settings: got %+v", c2)
	}
}

func TestValidate(t *testing.T) {
	app := func(key, secret string) App { return App{Key: key, Secret: secret} }
	tests := []struct {
		name string
		cfg  Config
		want string // "" = valid; else a part of the error message
	}{
		{"no apps", Config{}, ""},
		{"one app", Config{Apps: []App{app("k", "s")}}, ""},
		{"two apps", Config{Apps: []App{app("k1", "s"), app("k2", "s")}}, ""},
		{"same secret is fine", Config{Apps: []App{app("k1", "XSAMESECRET"), app("k2", "XSAMESECRET")}}, ""},
		{"missing key", Config{Apps: []App{app("", "s")}}, "app 0: key and secret are required"},
		{"missing secret", Config{Apps: []App{app("k1", "s"), app("k2", "")}}, "app 1: key and secret are required"},
		{"duplicate key", Config{Apps: []App{app("k", "XSECRET1"), app("x", "s"), app("k", "XSECRET2")}}, `app 2: duplicate key "k"`},
		{"negative max_event_bytes", Config{Apps: []App{{Key: "k", Secret: "s", Limits: Limits{MaxEventBytes: -1}}}}, "negative"},
		{"negative max_channels_per_event", Config{Apps: []App{{Key: "k", Secret: "s", Limits: Limits{MaxChannelsPerEvent: -1}}}}, "negative"},
		{"negative max_connections", Config{Apps: []App{{Key: "k", Secret: "s", Limits: Limits{MaxConnections: -1}}}}, "negative"},
		{"negative server max_connections", Config{MaxConnections: -1}, "max_connections must not be negative"},
		{"nats_listen with nats_url", Config{NATSURL: "nats://x:4222", NATSListen: ":4222"}, "nats_listen"},
		{"nats_listen alone", Config{NATSListen: ":4222"}, ""},
		{"nats_listen_auth without nats_listen", Config{NATSListenAuth: NATSListenAuth{Token: "t"}}, "nats_listen_auth applies only with nats_listen"},
		{"nats_listen_auth user and password", Config{NATSListen: ":4222", NATSListenAuth: NATSListenAuth{User: "u", Password: "p"}}, ""},
		{"nats_listen_auth user alone", Config{NATSListen: ":4222", NATSListenAuth: NATSListenAuth{User: "u"}}, "user and password go together"},
		{"nats_listen_auth token and nkey", Config{NATSListen: ":4222", NATSListenAuth: NATSListenAuth{Token: "t", NKeyFile: "u.nk"}}, "only one of"},
		{"nats_listen_auth tls", Config{NATSListen: ":4222", NATSListenAuth: NATSListenAuth{Token: "t", CertFile: "c", KeyFile: "k"}}, ""},
		{"nats_listen_auth cert alone", Config{NATSListen: ":4222", NATSListenAuth: NATSListenAuth{CertFile: "c"}}, "cert_file and key_file"},
		{"nats_listen_auth mtls", Config{NATSListen: ":4222", NATSListenAuth: NATSListenAuth{CertFile: "c", KeyFile: "k", CAFile: "ca"}}, ""},
		{"nats_listen_auth ca without tls", Config{NATSListen: ":4222", NATSListenAuth: NATSListenAuth{CAFile: "ca"}}, "ca_file"},
		{"webhook_names pusher", Config{Apps: []App{{Key: "k", Secret: "s", WebhookNames: "pusher"}}}, ""},
		{"webhook_names webman", Config{Apps: []App{{Key: "k", Secret: "s", WebhookNames: "webman"}}}, ""},
		{"webhook_events pusher names", Config{Apps: []App{{Key: "k", Secret: "s", WebhookEvents: []string{"channel_occupied", "member_removed", "client_event"}}}}, ""},
		{"webhook_events webman names", Config{Apps: []App{{Key: "k", Secret: "s", Compat: "webman", WebhookEvents: []string{"channel_added", "channel_removed", "user_added", "user_removed"}}}}, ""},
		{"webhook_events mixed names", Config{Apps: []App{{Key: "k", Secret: "s", WebhookEvents: []string{"channel_added", "member_removed"}}}}, ""},
		{"webhook_events unknown", Config{Apps: []App{{Key: "k", Secret: "s", WebhookEvents: []string{"channel_ocupied"}}}}, `unknown event "channel_ocupied"`},
		{"max_channel_name_length at the max", Config{Apps: []App{{Key: "k", Secret: "s", Limits: Limits{MaxChannelNameLength: 1064, MaxUserIDLength: 128}}}}, ""},
		{"max_channel_name_length over the max", Config{Apps: []App{{Key: "k", Secret: "s", Limits: Limits{MaxChannelNameLength: 1065, MaxUserIDLength: 128}}}},
			`app "k": max_channel_name_length 1065 is over 1064`},
		{"max_channel_name_length far over", Config{Apps: []App{{Key: "k", Secret: "s", Limits: Limits{MaxChannelNameLength: 1400, MaxUserIDLength: 128}}}},
			"max_channel_name_length 1400 is over"},
		{"a longer app key lowers the max", Config{Apps: []App{{Key: "kkkkkkkkkk", Secret: "s", Limits: Limits{MaxChannelNameLength: 1064, MaxUserIDLength: 128}}}},
			"is over 1046"},
		{"a longer max_user_id_length lowers the max", Config{Apps: []App{{Key: "k", Secret: "s", Limits: Limits{MaxChannelNameLength: 1064, MaxUserIDLength: 129}}}},
			"is over 1063"},
		{"max_user_id_length leaves no room", Config{Apps: []App{{Key: "k", Secret: "s", Limits: Limits{MaxChannelNameLength: 200, MaxUserIDLength: 1200}}}},
			"max_user_id_length 1200 leaves no room"},
		{"negative max_channel_name_length", Config{Apps: []App{{Key: "k", Secret: "s", Limits: Limits{MaxChannelNameLength: -1}}}}, "must not be negative"},
		{"webhook_names unknown", Config{Apps: []App{{Key: "k", Secret: "s", WebhookNames: "soketi"}}}, "webhook_names"},
		{"resume window off", Config{ResumeWindowBytes: -1, ResumeWindowLinger: -1}, ""},
		{"resume window linger too long", Config{ResumeWindowLinger: time.Hour}, "resume_window_linger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: got %v, want nil", err)
			case tt.want != "" && err == nil:
				t.Fatalf("Validate: got nil, want an error mentioning %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("Validate: got %q, want an error mentioning %q", err, tt.want)
			}
			if err != nil {
				for _, a := range tt.cfg.Apps {
					if len(a.Secret) >= 8 && strings.Contains(err.Error(), a.Secret) {
						t.Errorf("Validate: error %q reveals secret %q", err, a.Secret)
					}
				}
			}
		})
	}
}

// TestDefaultLimitsFitNATSSubjects proves the default limits leave room:
// an app with a long key keeps Pusher's defaults valid.
func TestDefaultLimitsFitNATSSubjects(t *testing.T) {
	c := Config{Apps: []App{{Key: strings.Repeat("k", 64), Secret: "s"}}}
	c.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults with a 64-byte key: %v", err)
	}
	if max := MaxChannelNameLength("app-key", 128); max < 1000 {
		t.Fatalf("max channel name length %d at the default user id length, want at least 1000", max)
	}
}

func TestSubscriptionCounting(t *testing.T) {
	c, err := Parse([]byte(`
apps:
  - key: on
    secret: s
    webhook_events: [channel_occupied, subscription_count]
  - key: off
    secret: s
  - key: filtered
    secret: s
    webhook_events: [channel_occupied]
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"on": true, "off": false, "filtered": false}
	for i := range c.Apps {
		a := &c.Apps[i]
		if got := a.SubscriptionCounting(); got != want[a.Key] {
			t.Errorf("app %s: SubscriptionCounting() = %v, want %v", a.Key, got, want[a.Key])
		}
	}
}
