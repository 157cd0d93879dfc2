package config

import (
	"strings"
	"testing"
)

// TestInvalidValuesRefused is issue 15: invalid values started silently
// (log_level: verbose, log_format: xml, an unknown webhook_events name,
// negative limits, webhook_url: "not a url"). Each is refused, naming its
// field.
func TestInvalidValuesRefused(t *testing.T) {
	apps := "apps:\n  - key: k\n    secret: s\n"
	tests := []struct {
		name, yaml string
		want       []string // parts of the error, "" = valid
	}{
		{"valid", "log_level: debug\nlog_format: json\nws_addr: 0.0.0.0:3131\napi_addr: :3232\nnats_url: nats://a:4222,tls://b:4222\nnode_name: eu-west gateway 1\n" + apps, nil},
		{"log_level", "log_level: verbose\n", []string{`log_level: "verbose" is not debug, info, warn or error`}},
		{"log_format", "log_format: xml\n", []string{`log_format: "xml" is not text or json`}},
		{"unknown webhook event", apps + "    webhook_events: [channel_ocupied]\n", []string{`webhook_events: unknown event "channel_ocupied"`}},
		{"negative app limits", apps + "    max_batch_events: -1\n    activity_timeout: -5\n    cache_ttl: -1s\n",
			[]string{`apps[0] ("k"): max_batch_events: must not be negative`, `apps[0] ("k"): activity_timeout: must not be negative`, `cache_ttl: must not be negative`}},
		{"negative server settings", "pong_timeout: -1s\napi_auth_failures_per_second: -3\n",
			[]string{"pong_timeout: must not be negative", "api_auth_failures_per_second: must not be negative"}},
		{"webhook_url not a URL", apps + "    webhook_url: \"not a url\"\n", []string{"webhook_url", "the scheme must be http or https"}},
		{"address without a port", "ws_addr: localhost\n", []string{`ws_addr: "localhost" is not host:port`}},
		{"port out of range", "api_addr: 127.0.0.1:70000\n", []string{"api_addr", "from 0 to 65535"}},
		{"pprof address", "pprof_addr: 6060\n", []string{"pprof_addr"}},
		{"nats_url scheme", "nats_url: http://n:4222\n", []string{"nats_url", "nats, tls, ws or wss"}},
		{"nats_url hides its password", "nats_url: \"http://u:hunter22@n:4222\"\n", []string{"nats_url"}},
		{"origin with a slash", apps + "    allowed_origins: [\"https://good.example/\"]\n", []string{"allowed_origins[0]", "no path, query or trailing slash"}},
		{"origin without a scheme", apps + "    allowed_origins: [good.example]\n", []string{"allowed_origins[0]", "is not an origin"}},
		{"node name with a newline", "node_name: \"a\\nb\"\n", []string{"node_name", "control character"}},
		{"node name too long", "node_name: " + strings.Repeat("n", 65) + "\n", []string{"node_name", "at most 64"}},
		{"key with a slash", "apps:\n  - key: a/b\n    secret: s\n", []string{`apps[0] ("a/b"): key:`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			c.Defaults()
			err = c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v, want valid", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: valid, want an error with %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate: %q, want it to say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter22") {
				t.Errorf("Validate: %q shows a password", err)
			}
		})
	}
}
