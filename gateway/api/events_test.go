package api

import (
	"encoding/json"
	"testing"

	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/apps"
)

func testApp() *apps.App {
	a := &apps.App{App: config.App{Key: "k", Secret: "s"}}
	a.Limits.Defaults()
	return a
}

func TestPrepareEvent(t *testing.T) {
	s := &Server{}
	a := testApp()
	cases := []struct {
		body   string
		status int // 0: accepted
	}{
		{`{"name":"e","channel":"c","data":"x"}`, 0},
		{`{"name":"e","channels":["a","b","a"],"data":{"obj":1}}`, 0},
		{`{"name":"e","channels":["#server-to-user-7"],"data":"x"}`, 0},
		{`{"name":"e","channel":"c","channels":["d"],"data":"x"}`, 400},
		{`{"name":"e","data":"x"}`, 400},
		{`{"channel":"c","data":"x"}`, 400},
		{`{"name":"e","channel":"c"}`, 400},
		{`{"name":"e","channel":"bad name","data":"x"}`, 400},
		{`{"name":"e","channel":"a#b","data":"x"}`, 400},
		{`{"name":"e","channel":"c","data":"x","socket_id":"nope"}`, 400},
		{`{"name":"e","channel":"c","data":"x","info":"user_count"}`, 400},
		{`{"name":"e","channel":"presence-c","data":"x","info":"user_count"}`, 0},
		{`{"name":"e","channel":"c","data":"x","info":"bogus"}`, 400},
		{`{"name":"e","channel":"c","data":"` + `"}`, 0},
	}
	for _, tc := range cases {
		var e eventBody
		if err := decodeStrict([]byte(tc.body), &e); err != nil {
			t.Fatalf("%s: decode: %v", tc.body, err)
		}
		_, err := s.prepare(a, e)
		got := 0
		if ae, ok := err.(*Error); ok {
			got = ae.Status
		} else if err != nil {
			t.Fatalf("%s: unexpected error type %T %v", tc.body, err, err)
		}
		if got != tc.status {
			t.Errorf("%s: status %d (%v), want %d", tc.body, got, err, tc.status)
		}
	}
	for _, body := range []string{`{"name":"e","channel":"c","data":"x"}garbage`, `{"name":"e","channel":"c","data":"x"} {}`, `{"name":"e","channel":"c","data":"x"}]`} {
		var e eventBody
		if err := decodeStrict([]byte(body), &e); err == nil || err.(*Error).Status != 400 {
			t.Errorf("%s: %v, want 400 (data after the JSON value)", body, err)
		}
	}
	var ok eventBody
	if err := decodeStrict([]byte("{\"name\":\"e\",\"channel\":\"c\",\"data\":\"x\"}\r\n "), &ok); err != nil {
		t.Errorf("body with trailing white space: %v, want accepted", err)
	}
	big := `{"name":"e","channel":"c","data":"` + string(bytesOf('a', 10241)) + `"}`
	var e eventBody
	decodeStrict([]byte(big), &e)
	if _, err := s.prepare(a, e); err == nil || err.(*Error).Status != 413 {
		t.Fatalf("10241-byte data: %v, want 413", err)
	}
}

func bytesOf(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}

// FuzzPrepareEvent feeds arbitrary API bodies to the event parser: it never
// panics, and what it accepts encodes to valid frames within the limits.
func FuzzPrepareEvent(f *testing.F) {
	for _, s := range []string{
		`{"name":"e","channel":"c","data":"x"}`,
		`{"name":"e","channels":["a","b"],"data":{"o":[1,2]},"socket_id":"1.2","info":"subscription_count"}`,
		`{"batch":[]}`, `null`, `[]`, `{"data":1e999}`, `{"name":"\u2028","channel":"c","data":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	s := &Server{}
	a := testApp()
	f.Fuzz(func(t *testing.T, body []byte) {
		var e eventBody
		if decodeStrict(body, &e) != nil {
			return
		}
		p, err := s.prepare(a, e)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if len(p.out) == 0 || len(p.out) > a.MaxChannelsPerEvent {
			t.Fatalf("accepted %d channels", len(p.out))
		}
		for _, o := range p.out {
			var fr struct {
				Event, Channel, Data string
			}
			if err := json.Unmarshal(o.Frame, &fr); err != nil {
				t.Fatalf("frame %q is not valid JSON: %v", o.Frame, err)
			}
			if fr.Channel != o.Channel || fr.Event != e.Name || len(fr.Data) > a.MaxEventBytes*3 {
				t.Fatalf("frame %q does not match the event", o.Frame)
			}
		}
	})
}
