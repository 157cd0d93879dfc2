package config

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestAppJSONRoundTrip(t *testing.T) {
	a := App{ID: "7", Key: "k", Secret: "0123456789abcdef", PreviousSecret: "old-secret-0123456",
		PreviousSecretExpires: time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC), DisableClientEvents: true,
		AllowedOrigins: []string{"https://a.example"}, WebhookEvents: []string{"channel_occupied"},
		Webhooks:      []WebhookEndpoint{{Name: "n", URL: "http://h/p", Events: []string{"member_added"}, Headers: map[string]string{"X-A": "b"}}},
		WebhookTiming: WebhookTiming{WebhookDelay: 2 * time.Second},
		Limits:        Limits{MaxConnections: 5, CacheTTL: time.Minute, HistoryMaxAge: 2 * time.Hour, UserAuthTimeout: 3 * time.Second}}
	b, err := MarshalAppJSON(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"id":"7","key":"k","secret":"0123456789abcdef"`, `"cache_ttl":"1m0s"`, `"webhook_delay":"2s"`,
		`"previous_secret_expires":"2030-01-02T03:04:05.000000006Z"`, `"headers":{"X-A":"b"}`, `"webhook_url":""`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON form %s: want it to hold %s", b, want)
		}
	}
	if !json.Valid(b) {
		t.Fatalf("not JSON: %s", b)
	}
	var back App
	if err := DecodeAppJSON(b, &back, false); err != nil {
		t.Fatalf("decode its own JSON: %v", err)
	}
	if !reflect.DeepEqual(a, back) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, a)
	}
	omitted, _ := MarshalAppJSON(a, "secret", "previous_secret")
	if strings.Contains(string(omitted), "0123456789abcdef") || strings.Contains(string(omitted), "old-secret") {
		t.Fatalf("secrets left in %s", omitted)
	}
}

func TestDecodeAppJSONPatchAndNull(t *testing.T) {
	a := App{Key: "k", Secret: "s", Limits: Limits{MaxConnections: 9, CacheTTL: time.Minute}, AllowedOrigins: []string{"x"}}
	if err := DecodeAppJSON([]byte(`{"max_connections": 3, "cache_ttl": null, "allowed_origins": null, "disabled": true}`), &a, false); err != nil {
		t.Fatal(err)
	}
	if a.MaxConnections != 3 || a.CacheTTL != 0 || a.AllowedOrigins != nil || !a.Disabled || a.Key != "k" || a.Secret != "s" {
		t.Fatalf("after the patch: %+v", a)
	}
}

func TestDecodeAppJSONErrorsNameTheField(t *testing.T) {
	tests := []struct{ in, field, msg string }{
		{`{"nope": 1}`, "nope", "unknown field"},
		{`{"max_connections": "x"}`, "max_connections", "want a whole number"},
		{`{"max_connections": 1.5}`, "max_connections", "want a whole number"},
		{`{"max_connections": 1e3}`, "max_connections", "want a whole number"},
		{`{"key": 5}`, "key", "want a string"},
		{`{"disabled": "yes"}`, "disabled", "want true or false"},
		{`{"cache_ttl": 30}`, "cache_ttl", "want a duration"},
		{`{"cache_ttl": "soon"}`, "cache_ttl", "want a duration"},
		{`{"previous_secret_expires": "tomorrow"}`, "previous_secret_expires", "RFC 3339"},
		{`{"allowed_origins": "x"}`, "allowed_origins", "want an array of strings"},
		{`{"webhooks": [{"name": "a", "url": 3}]}`, "webhooks[0].url", "want a string"},
		{`{"webhooks": [{"name": "a", "bogus": 3}]}`, "webhooks[0].bogus", "unknown field"},
		{`{"webhooks": {"name": "a"}}`, "webhooks", "want a JSON array"},
		{`{"webhooks": [7]}`, "webhooks[0]", "want a JSON object"},
		{`{"headers": {}}`, "headers", "unknown field"},
		{`[1]`, "", "want a JSON object"},
		{`{"key": "k"} x`, "", "data after"},
		{`{"key": `, "", "invalid JSON"},
	}
	for _, tt := range tests {
		var a App
		err := DecodeAppJSON([]byte(tt.in), &a, false)
		if err == nil || ErrorField(err) != tt.field || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("decode %s: got %v (field %q), want field %q and %q", tt.in, err, ErrorField(err), tt.field, tt.msg)
		}
	}
	var a App
	if err := DecodeAppJSON([]byte(`{"key": "k", "from_the_future": 1}`), &a, true); err != nil || a.Key != "k" {
		t.Fatalf("lenient decode of an unknown field: %v, key %q", err, a.Key)
	}
}

func TestAppValidateNamesTheField(t *testing.T) {
	ok := func() App { return App{Key: "k", Secret: "s"} }
	tests := []struct {
		change func(*App)
		field  string
	}{
		{func(a *App) { a.Key = "" }, "key"},
		{func(a *App) { a.Secret = "" }, "secret"},
		{func(a *App) { a.Compat = "x" }, "compat"},
		{func(a *App) { a.MaxPresenceMembers = -1 }, "max_presence_members"},
		{func(a *App) { a.CacheTTL = -time.Second }, "cache_ttl"},
		{func(a *App) { a.WebhookURL = "ftp://x" }, "webhook_url"},
		{func(a *App) { a.WebhookEvents = []string{"member_added", "nope"} }, "webhook_events[1]"},
		{func(a *App) {
			a.Webhooks = []WebhookEndpoint{{Name: "a", URL: "http://h"}, {Name: "b", URL: "mailto:x"}}
		}, "webhooks[1].url"},
		{func(a *App) { a.Webhooks = []WebhookEndpoint{{URL: "http://h"}} }, "webhooks[0].name"},
		{func(a *App) { a.WebhookBatchMax = 1000 }, "webhook_batch_max"},
		{func(a *App) { a.PreviousSecret = "p" }, "previous_secret_expires"},
		{func(a *App) { a.EncryptionMasterKey = "c2hvcnQ=" }, "encryption_master_key"},
		{func(a *App) { a.MaxChannelNameLength = 5000 }, "max_channel_name_length"},
	}
	for _, tt := range tests {
		a := ok()
		tt.change(&a)
		if err := a.Validate(); ErrorField(err) != tt.field {
			t.Errorf("%+v: got %v (field %q), want field %q", a, err, ErrorField(err), tt.field)
		}
	}
	a := ok()
	a.EncryptionMasterKey = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="
	a.PreviousSecret, a.PreviousSecretExpires = "p", time.Now()
	if err := a.Validate(); err != nil {
		t.Fatalf("valid app: %v", err)
	}
}

func TestVerifySecrets(t *testing.T) {
	now := time.Now()
	a := App{Secret: "new", PreviousSecret: "old", PreviousSecretExpires: now.Add(time.Second)}
	if c, p := a.VerifySecrets(now); c != "new" || p != "old" {
		t.Fatalf("within the grace period: %q %q", c, p)
	}
	if c, p := a.VerifySecrets(now.Add(time.Second)); c != "new" || p != "" {
		t.Fatalf("at the expiry: %q %q, want the previous secret refused", c, p)
	}
}

func TestValidateDuplicateIDAndAdminToken(t *testing.T) {
	c := Config{Apps: []App{{ID: "1", Key: "a", Secret: "s"}, {Key: "b", Secret: "s"}, {Key: "c", Secret: "s"}, {ID: "1", Key: "d", Secret: "s"}}}
	if err := c.Validate(); err == nil || ErrorField(err) != "id" || !strings.Contains(err.Error(), `duplicate id "1": app "a" has it`) {
		t.Fatalf("duplicate id: %v", err)
	}
	c = Config{AdminToken: "short"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "admin_token must be at least 16") {
		t.Fatalf("short admin token: %v", err)
	}
}

func TestRotate(t *testing.T) {
	now := time.Now()
	a := App{Key: "k", Secret: "one", PreviousSecret: "zero", PreviousSecretExpires: now.Add(time.Hour)}
	a.Rotate("two", time.Minute, now)
	if a.Secret != "two" || a.PreviousSecret != "one" || !a.PreviousSecretExpires.Equal(now.Add(time.Minute)) {
		t.Fatalf("rotate with a grace period: %+v", a)
	}
	a.Rotate("three", 0, now)
	if a.Secret != "three" || a.PreviousSecret != "" || !a.PreviousSecretExpires.IsZero() {
		t.Fatalf("rotate without a grace period: %+v", a)
	}
}
