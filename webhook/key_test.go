package webhook

import (
	"strings"
	"testing"
)

func TestToken(t *testing.T) {
	tests := map[string]string{
		"":              "_",
		"abc-XYZ-09":    "abc-XYZ-09",
		"private-a.b":   "private-a_2Eb",
		"presence-*>":   "presence-_2A_3E",
		"#server-to-u1": "_23server-to-u1",
		"_":             "_5F",
		"é":             "_C3_A9",
	}
	for in, want := range tests {
		if got := token(in); got != want {
			t.Errorf("token(%q): got %q, want %q", in, got, want)
		}
	}
	a := stateKey("app", Event{Name: ChannelOccupied, Channel: "a.b"})
	b := stateKey("app", Event{Name: MemberAdded, Channel: "a", UserID: "b"})
	u := stateKey("app", Event{Name: UserOnline, UserID: "a.b"})
	if a == b || a == u || b == u {
		t.Errorf("channel, member and user keys collide: %q %q %q", a, b, u)
	}
}

// FuzzToken checks that tokens stay valid single KV key tokens and that
// different strings never share one.
func FuzzToken(f *testing.F) {
	for _, s := range []string{"", "a", "a.b", "_2E", "private-x", "\x00", "ü"} {
		f.Add(s, s+".")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ta := token(a)
		if ta == "" || strings.ContainsAny(ta, ".*> \t\r\n") {
			t.Fatalf("token(%q) = %q is no single token", a, ta)
		}
		for i := 0; i < len(ta); i++ {
			c := ta[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				t.Fatalf("token(%q) = %q has byte %q", a, ta, c)
			}
		}
		if a != b && ta == token(b) {
			t.Fatalf("token(%q) == token(%q) == %q", a, b, ta)
		}
	})
}

// TestParseStateKey: parseStateKey reads back what stateKey wrote.
func TestParseStateKey(t *testing.T) {
	for _, tt := range []struct {
		ev   Event
		kind byte
	}{
		{Event{Name: ChannelOccupied, Channel: "private-a.b"}, keyChannel},
		{Event{Name: MemberAdded, Channel: "presence-x", UserID: "u.1 é"}, keyMember},
		{Event{Name: UserOffline, UserID: "u.1 é"}, keyUser},
	} {
		n, ok := parseStateKey(stateKey("my.app", tt.ev))
		if want := (stateName{kind: tt.kind, app: "my.app", channel: tt.ev.Channel, user: tt.ev.UserID}); !ok || n != want {
			t.Errorf("%+v: got %+v ok=%v, want %+v", tt.ev, n, ok, want)
		}
	}
	for _, bad := range []string{"", "c.a", "m.a.b", "u.a", "u.a.b.c", "x.a.b", "c.a.%%"} {
		if _, ok := parseStateKey(bad); ok {
			t.Errorf("parseStateKey(%q) accepted", bad)
		}
	}
}
