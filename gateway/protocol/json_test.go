package protocol

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// jsonStringCases are inputs for AppendJSONString, with the exact output
// where it matters (empty want = only the round trip is checked).
var jsonStringCases = []struct {
	in, want string
}{
	{"", `""`},
	{"plain", `"plain"`},
	{`a"b`, `"a\"b"`},
	{`back\slash`, `"back\\slash"`},
	{`\"`, `"\\\""`},
	{"line\nfeed", `"line\nfeed"`},
	{"cr\r", `"cr\r"`},
	{"tab\t", `"tab\t"`},
	{"\x00", `"\u0000"`},
	{"\x01\x08\x0c\x1f", `"\u0001\u0008\u000c\u001f"`},
	{"\x7f", "\"\x7f\""}, // DEL is legal in a JSON string
	{" ", `" "`},
	{"/", `"/"`},
	{"<script>&amp;</script>", `"<script>&amp;</script>"`},
	{"é", `"é"`},
	{"日本語", `"日本語"`},
	{"emoji 😀", `"emoji 😀"`},
	{"\u2028", `"\u2028"`},
	{"\u2029", `"\u2029"`},
	{"a\u2028b\u2029c", `"a\u2028b\u2029c"`},
	{"\u2027\u202a", "\"\u2027\u202a\""},
	{"\ufffd", "\"\ufffd\""}, // a real U+FFFD stays as it is
	{"\ufeff", "\"\ufeff\""},
	{"\xff", `"\ufffd"`},
	{"a\xffb", `"a\ufffdb"`},
	{"\xc3", `"\ufffd"`},                               // truncated 2-byte sequence
	{"\xc3(", `"\ufffd("`},                             // bad continuation
	{"\xe2\x82", `"\ufffd\ufffd"`},                     // truncated 3-byte sequence
	{"\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},           // UTF-8 encoded surrogate
	{"\xc0\xaf", `"\ufffd\ufffd"`},                     // overlong '/'
	{"\xf4\x90\x80\x80", `"\ufffd\ufffd\ufffd\ufffd"`}, // beyond U+10FFFF
	{"\x80", `"\ufffd"`},
	{`{"socket_id":"1.2","activity_timeout":120}`, `"{\"socket_id\":\"1.2\",\"activity_timeout\":120}"`},
	{`{"some":"data"}`, `"{\"some\":\"data\"}"`},
	{strings.Repeat("x\"\n\u2028\xff", 50), ""},
}

func TestAppendJSONString(t *testing.T) {
	for _, tt := range jsonStringCases {
		got := AppendJSONString(nil, tt.in)
		if tt.want != "" && string(got) != tt.want {
			t.Errorf("AppendJSONString(%q): got %s, want %s", tt.in, got, tt.want)
		}
		checkJSONString(t, tt.in, got)
	}
}

// checkJSONString checks that out is a JSON string literal that decodes to
// what encoding/json makes of in (in itself when it is valid UTF-8) and that
// is also safe JavaScript: no raw control characters, U+2028 or U+2029.
func checkJSONString(t *testing.T, in string, out []byte) {
	t.Helper()
	if !json.Valid(out) {
		t.Fatalf("AppendJSONString(%q): got %q, want valid JSON", in, out)
	}
	var got string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("AppendJSONString(%q): got %q, which does not decode to a string: %v", in, out, err)
	}
	ref, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("json.Marshal(%q): %v", in, err)
	}
	var want string
	if err := json.Unmarshal(ref, &want); err != nil {
		t.Fatalf("json.Unmarshal(%q): %v", ref, err)
	}
	if utf8.ValidString(in) && want != in {
		t.Fatalf("encoding/json round trip of %q: got %q", in, want)
	}
	if got != want {
		t.Fatalf("AppendJSONString(%q) decodes to %q, want %q (encoding/json gives %s)", in, got, want, ref)
	}
	if !utf8.Valid(out) {
		t.Fatalf("AppendJSONString(%q): got %q, want valid UTF-8", in, out)
	}
	for _, c := range out {
		if c < 0x20 {
			t.Fatalf("AppendJSONString(%q): got %q with raw control byte %#x", in, out, c)
		}
	}
	if bytes.Contains(out, []byte("\u2028")) || bytes.Contains(out, []byte("\u2029")) {
		t.Fatalf("AppendJSONString(%q): got %q with a raw U+2028/U+2029", in, out)
	}
}

func TestAppendJSONStringAppends(t *testing.T) {
	prefix := []byte(`{"data":`)
	buf := make([]byte, len(prefix), 64)
	copy(buf, prefix)
	got := AppendJSONString(buf, "a\"b")
	if want := `{"data":"a\"b"`; string(got) != want {
		t.Errorf("AppendJSONString after a prefix: got %s, want %s", got, want)
	}
}

// Every single byte and every rune up to U+FFFF (plus a few beyond) decodes
// back to what encoding/json makes of it.
func TestAppendJSONStringAllRunes(t *testing.T) {
	for c := 0; c < 256; c++ {
		s := "x" + string([]byte{byte(c)}) + "y"
		checkJSONString(t, s, AppendJSONString(nil, s))
	}
	var b strings.Builder
	for r := rune(0); r <= 0xffff; r++ {
		b.WriteRune(r)
	}
	for _, r := range []rune{0x10000, 0x1f600, 0x10ffff} {
		b.WriteRune(r)
	}
	s := b.String()
	checkJSONString(t, s, AppendJSONString(nil, s))
}

func FuzzAppendJSONString(f *testing.F) {
	for _, tt := range jsonStringCases {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// The encoder works byte by byte; long inputs only slow the checks
		// (encoding/json decodes \u escapes slowly) and the minimizer down.
		if len(s) > 256 {
			return
		}
		out := AppendJSONString([]byte("prefix"), s)
		if !bytes.HasPrefix(out, []byte("prefix")) {
			t.Fatalf("AppendJSONString(%q): got %q, want it to keep the prefix", s, out)
		}
		out = out[len("prefix"):]
		// Valid UTF-8 decodes back to the input itself, anything else to what
		// encoding/json makes of it; the output is valid JSON either way.
		checkJSONString(t, s, out)
	})
}
