package config

import (
	"strings"
	"testing"
)

func TestCompatDefaults(t *testing.T) {
	c, err := Parse([]byte(`
apps:
  - key: p
    secret: s
  - key: w
    secret: s
    compat: webman
  - key: wl
    secret: s
    compat: webman
    max_event_bytes: 2048
    client_events_per_second: 5
    webhook_names: pusher
`))
	if err != nil {
		t.Fatal(err)
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	p, w, wl := c.Apps[0], c.Apps[1], c.Apps[2]
	if p.Webman() || p.WebmanWebhooks() || p.MaxEventBytes != 10240 || p.MaxChannelsPerEvent != 100 ||
		p.MaxEventNameLength != 200 || p.ClientEventsPerSec != 10 {
		t.Errorf("pusher app: got %+v, want Pusher names and limits", p)
	}
	if !w.Webman() || !w.WebmanWebhooks() || w.Limits.MaxEventBytes != WebmanLimits.MaxEventBytes ||
		w.MaxChannelsPerEvent != WebmanLimits.MaxChannelsPerEvent || w.MaxEventNameLength != WebmanLimits.MaxEventNameLength ||
		w.ClientEventsPerSec != WebmanLimits.ClientEventsPerSec {
		t.Errorf("webman app: got %+v, want webman names and limits", w)
	}
	if w.MaxBatchEvents != 10 || w.MaxChannelNameLength != 200 {
		t.Errorf("webman app: other limits %d %d, want Pusher's 10 and 200", w.MaxBatchEvents, w.MaxChannelNameLength)
	}
	if wl.MaxEventBytes != 2048 || wl.ClientEventsPerSec != 5 || wl.WebmanWebhooks() {
		t.Errorf("webman app with its own limits: got %+v, want 2048, 5 and Pusher webhook names", wl)
	}
}

func TestCompatValidate(t *testing.T) {
	c := Config{Apps: []App{{Key: "k", Secret: "s", Compat: "webmam"}}}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "compat") {
		t.Fatalf("Validate with compat webmam: got %v, want an error naming compat", err)
	}
}
