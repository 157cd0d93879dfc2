package config

import "testing"

// FuzzParse feeds arbitrary configuration files: parsing, defaults and
// validation never panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "ws_addr: 127.0.0.1:1\n", "apps:\n  - key: k\n    secret: s\n    cache_ttl: 30s\n",
		"apps: [{key: k, secret: s, max_event_bytes: -1}]", "nats: {user: u, token: t}", "replicas: 9", ":\n-\t"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		c.Defaults()
		if err := c.Validate(); err == nil {
			for _, a := range c.Apps {
				if a.Key == "" || a.Secret == "" || a.MaxEventBytes <= 0 {
					t.Fatalf("validated an unusable app %+v", a)
				}
			}
		}
	})
}

// FuzzDecodeAppJSON feeds arbitrary admin API bodies and store values:
// decoding never panics, and what decodes comes back the same through its
// JSON form.
func FuzzDecodeAppJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"key":"k","secret":"s","cache_ttl":"30s"}`, `{"webhooks":[{"name":"a","url":"http://h","headers":{"A":"b"}}]}`,
		`{"previous_secret_expires":"2030-01-01T00:00:00Z"}`, `{"max_connections":null}`, `[]`, `{"webhooks":[null]}`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var a App
		if DecodeAppJSON(b, &a, false) != nil {
			return
		}
		out, err := MarshalAppJSON(a)
		if err != nil {
			t.Fatalf("marshal %+v: %v", a, err)
		}
		var back App
		if err := DecodeAppJSON(out, &back, false); err != nil {
			t.Fatalf("decode %s: %v", out, err)
		}
		again, _ := MarshalAppJSON(back)
		if string(again) != string(out) {
			t.Fatalf("round trip changed:\n%s\n%s", out, again)
		}
	})
}
