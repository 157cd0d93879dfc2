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
