package bus

import (
	"strings"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	cases := map[string]string{
		"":                   "_",
		"abc-XYZ-09":         "abc-XYZ-09",
		"private-chat.room":  "private-chat_2Eroom",
		"a_b":                "a_5Fb",
		"#server-to-user-42": "_23server-to-user-42",
		"*>. \t":             "_2A_3E_2E_20_09",
		"ünï":                "_C3_BCn_C3_AF",
		"presence-x;y=z@w,v": "presence-x_3By_3Dz_40w_2Cv",
	}
	for in, want := range cases {
		got := EncodeToken(in)
		if got != want {
			t.Errorf("EncodeToken(%q) = %q, want %q", in, got, want)
		}
		back, err := DecodeToken(got)
		if err != nil || back != in {
			t.Errorf("DecodeToken(%q) = %q, %v; want %q", got, back, err, in)
		}
	}
}

func TestDecodeTokenRejects(t *testing.T) {
	for _, bad := range []string{"", "a.b", "_4", "_zz", "_61", "a*", "a_2e"} {
		if _, err := DecodeToken(bad); err == nil {
			t.Errorf("DecodeToken(%q) accepted a token EncodeToken never makes", bad)
		}
	}
}

func FuzzToken(f *testing.F) {
	for _, s := range []string{"", "a", "a.b", "_", "__", "#x", "\x00\xff", "presence-é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok := EncodeToken(s)
		if tok == "" || strings.ContainsAny(tok, ".*> \t\r\n") {
			t.Fatalf("EncodeToken(%q) = %q is not a valid subject token", s, tok)
		}
		back, err := DecodeToken(tok)
		if err != nil || back != s {
			t.Fatalf("round trip %q -> %q -> %q, %v", s, tok, back, err)
		}
		// Decoding arbitrary input never panics, and what it accepts is canonical.
		if d, err := DecodeToken(s); err == nil && EncodeToken(d) != s {
			t.Fatalf("DecodeToken(%q) = %q, but that encodes to %q", s, d, EncodeToken(d))
		}
	})
}
