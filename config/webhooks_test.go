package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestValidateWebhooks(t *testing.T) {
	base := func(mod func(a *App)) Config {
		a := App{Key: "k", Secret: "s"}
		mod(&a)
		return Config{Apps: []App{a}}
	}
	http := func(name, url string) WebhookEndpoint { return WebhookEndpoint{Name: name, URL: url} }
	many := func(n int) []WebhookEndpoint {
		var out []WebhookEndpoint
		for i := range n {
			out = append(out, http(fmt.Sprint("e", i), "http://127.0.0.1/h"))
		}
		return out
	}
	tests := []struct {
		name string
		cfg  Config
		want string // "" = valid; else a part of the error message
	}{
		{"two endpoints", base(func(a *App) {
			a.Webhooks = []WebhookEndpoint{
				{Name: "members", URL: "https://example.com/m", Events: []string{"member_added", "user_removed"}, Headers: map[string]string{"Authorization": "Bearer x"}},
				{Name: "sink", NATSSubject: "hooks.k", NATSStream: "HOOKS", Names: "webman"},
			}
		}), ""},
		{"ten endpoints with the shorthand", base(func(a *App) { a.WebhookURL = "http://127.0.0.1/h"; a.Webhooks = many(9) }), ""},
		{"eleven endpoints", base(func(a *App) { a.Webhooks = many(11) }), `webhooks: 11 endpoints`},
		{"eleven with webhook_url", base(func(a *App) { a.WebhookURL = "http://127.0.0.1/h"; a.Webhooks = many(10) }), `webhooks: 11 endpoints`},
		{"unknown filter name", base(func(a *App) {
			a.Webhooks = []WebhookEndpoint{{Name: "x", URL: "http://127.0.0.1/h", Events: []string{"channel_ocupied"}}}
		}), `webhooks[0].events (x): unknown event "channel_ocupied"`},
		{"bad url scheme", base(func(a *App) { a.Webhooks = []WebhookEndpoint{http("x", "ftp://127.0.0.1/h")} }), `webhooks[0].url (x): "ftp://127.0.0.1/h": the scheme must be http or https`},
		{"url without host", base(func(a *App) { a.Webhooks = []WebhookEndpoint{http("x", "http:///h")} }), `webhooks[0].url (x): "http:///h": no host`},
		{"relative url", base(func(a *App) { a.Webhooks = []WebhookEndpoint{http("x", "/hook")} }), `webhooks[0].url (x)`},
		{"unparsable url", base(func(a *App) { a.Webhooks = []WebhookEndpoint{http("x", "http://[::1")} }), `webhooks[0].url (x): not a URL`},
		{"bad webhook_url", base(func(a *App) { a.WebhookURL = "127.0.0.1:8080/hook" }), `webhook_url:`},
		{"bad channel_hook", base(func(a *App) { a.ChannelHookURL = "localhost/hook" }), `channel_hook:`},
		{"bad user_hook", base(func(a *App) { a.UserHookURL = "mailto:x@y" }), `user_hook:`},
		{"url keeps its token out of the error", base(func(a *App) { a.Webhooks = []WebhookEndpoint{http("x", "ftp://u:XPASSWORDX@h/p?token=XTOKENX")} }), `"ftp://h/p"`},
		{"no name", base(func(a *App) { a.Webhooks = []WebhookEndpoint{http("", "http://127.0.0.1/h")} }), `webhooks[0].name is required`},
		{"bad name", base(func(a *App) { a.Webhooks = []WebhookEndpoint{http("a b", "http://127.0.0.1/h")} }), `webhooks[0].name "a b"`},
		{"shorthand name", base(func(a *App) { a.Webhooks = []WebhookEndpoint{http("webhook_url", "http://127.0.0.1/h")} }), `webhooks[0].name "webhook_url" is the shorthand`},
		{"duplicate name", base(func(a *App) {
			a.Webhooks = []WebhookEndpoint{http("x", "http://127.0.0.1/a"), http("x", "http://127.0.0.1/b")}
		}), `webhooks[1].name "x": used twice`},
		{"neither url nor subject", base(func(a *App) { a.Webhooks = []WebhookEndpoint{{Name: "x"}} }), `webhooks[0] (x): set url or nats_subject`},
		{"both url and subject", base(func(a *App) {
			a.Webhooks = []WebhookEndpoint{{Name: "x", URL: "http://127.0.0.1/h", NATSSubject: "a.b"}}
		}), `not both`},
		{"wildcard subject", base(func(a *App) { a.Webhooks = []WebhookEndpoint{{Name: "x", NATSSubject: "hooks.>"}} }), `webhooks[0].nats_subject (x)`},
		{"pushd subject", base(func(a *App) { a.Webhooks = []WebhookEndpoint{{Name: "x", NATSSubject: "pushd.hooks"}} }), `reserved`},
		{"bad stream name", base(func(a *App) { a.Webhooks = []WebhookEndpoint{{Name: "x", NATSSubject: "h.k", NATSStream: "A.B"}} }), `webhooks[0].nats_stream (x)`},
		{"stream without subject", base(func(a *App) { a.Webhooks = []WebhookEndpoint{{Name: "x", URL: "http://127.0.0.1/h", NATSStream: "S"}} }), `only with nats_subject`},
		{"bad naming", base(func(a *App) { a.Webhooks = []WebhookEndpoint{{Name: "x", URL: "http://127.0.0.1/h", Names: "soketi"}} }), `webhooks[0].names (x)`},
		{"reserved header", base(func(a *App) {
			a.Webhooks = []WebhookEndpoint{{Name: "x", URL: "http://127.0.0.1/h", Headers: map[string]string{"X-Pusher-Signature": "forged"}}}
		}), `webhooks[0].headers (x): "X-Pusher-Signature" is set by Pushd`},
		{"bad header name", base(func(a *App) {
			a.Webhooks = []WebhookEndpoint{{Name: "x", URL: "http://127.0.0.1/h", Headers: map[string]string{"Bad Name": "v"}}}
		}), `is not a header name`},
		{"header value with a line break", base(func(a *App) {
			a.Webhooks = []WebhookEndpoint{{Name: "x", URL: "http://127.0.0.1/h", Headers: map[string]string{"X-A": "v\r\nX-B: w"}}}
		}), `line break`},
		{"a sink subject shared by two apps", Config{Apps: []App{
			{Key: "a", Secret: "s", Webhooks: []WebhookEndpoint{{Name: "s", NATSSubject: "hooks.all"}}},
			{Key: "b", Secret: "s", Webhooks: []WebhookEndpoint{{Name: "s", NATSSubject: "hooks.all"}}},
		}}, `webhooks[0].nats_subject (s): "hooks.all" is already the sink of a/s`},
		{"timing", base(func(a *App) {
			a.WebhookTiming = WebhookTiming{WebhookDelay: time.Second, WebhookBatchWindow: time.Second, WebhookBatchMax: 50,
				WebhookRetryFor: time.Hour, WebhookRetryBase: 100 * time.Millisecond, WebhookRetryMax: 10 * time.Second}
		}), ""},
		{"batch window too long", base(func(a *App) { a.WebhookBatchWindow = 6 * time.Second }), `webhook_batch_window must be between 1ms and 5s, got 6s`},
		{"batch max too big", base(func(a *App) { a.WebhookBatchMax = 101 }), `webhook_batch_max must be between 1 and 100, got 101`},
		{"negative batch max", base(func(a *App) { a.WebhookBatchMax = -1 }), `webhook_batch_max`},
		{"negative delay", base(func(a *App) { a.WebhookDelay = -time.Second }), `webhook_delay`},
		{"retry window too long", base(func(a *App) { a.WebhookRetryFor = 25 * time.Hour }), `webhook_retry_for`},
		{"retry base above max", base(func(a *App) { a.WebhookRetryBase = 2 * time.Minute }), `webhook_retry_base (2m0s) must not exceed webhook_retry_max (1m0s)`},
		{"dead letters kept too briefly", Config{WebhookDeadLetterMaxAge: time.Minute}, `webhook_dead_letter_max_age`},
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
			if err != nil && (strings.Contains(err.Error(), "XPASSWORDX") || strings.Contains(err.Error(), "XTOKENX")) {
				t.Errorf("Validate: error %q shows a URL's credentials", err)
			}
		})
	}
}

func TestLoadWebhooks(t *testing.T) {
	c, err := Parse([]byte(`
webhook_dead_letter_max_age: 48h
apps:
  - key: k
    secret: s
    webhook_url: http://127.0.0.1:8080/all
    webhook_retry_for: 30s
    webhook_batch_max: 5
    webhooks:
      - name: members
        url: https://backend.example/members
        events: [member_added, user_removed]
        headers: {Authorization: Bearer t}
        names: webman
      - name: sink
        nats_subject: hooks.k
        nats_stream: HOOKS_K
        events: [subscription_count]
`))
	if err != nil {
		t.Fatal(err)
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	a := c.Apps[0]
	want := []WebhookEndpoint{
		{Name: "members", URL: "https://backend.example/members", Events: []string{"member_added", "user_removed"},
			Headers: map[string]string{"Authorization": "Bearer t"}, Names: "webman"},
		{Name: "sink", NATSSubject: "hooks.k", NATSStream: "HOOKS_K", Events: []string{"subscription_count"}},
	}
	if !reflect.DeepEqual(a.Webhooks, want) {
		t.Errorf("webhooks:\n got %+v\nwant %+v", a.Webhooks, want)
	}
	wantTiming := DefaultWebhookTiming
	wantTiming.WebhookRetryFor, wantTiming.WebhookBatchMax = 30*time.Second, 5
	if a.WebhookTiming != wantTiming {
		t.Errorf("timing after Defaults:\n got %+v\nwant %+v", a.WebhookTiming, wantTiming)
	}
	if c.WebhookDeadLetterMaxAge != 48*time.Hour {
		t.Errorf("webhook_dead_letter_max_age: got %s, want 48h", c.WebhookDeadLetterMaxAge)
	}
	if !a.SubscriptionCounting() {
		t.Error("an endpoint naming subscription_count does not turn subscription counting on")
	}
}

func TestWebhookTimingDefaults(t *testing.T) {
	c := Config{Apps: []App{{Key: "k", Secret: "s"}, {Key: "w", Secret: "s", Compat: CompatWebman}}}
	c.Defaults()
	for _, a := range c.Apps {
		if a.WebhookTiming != DefaultWebhookTiming {
			t.Errorf("app %s timing: got %+v, want %+v", a.Key, a.WebhookTiming, DefaultWebhookTiming)
		}
	}
	if c.WebhookDeadLetterMaxAge != 7*24*time.Hour {
		t.Errorf("webhook_dead_letter_max_age: got %s, want 168h", c.WebhookDeadLetterMaxAge)
	}
}
