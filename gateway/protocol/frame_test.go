package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// decodeObject decodes a frame into a generic map, failing on anything that
// is not one JSON object.
func decodeObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("frame %s: got invalid JSON object: %v", b, err)
	}
	return m
}

func checkObject(t *testing.T, what string, b []byte, want map[string]any) {
	t.Helper()
	if got := decodeObject(t, b); !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %#v, want %#v (frame %s)", what, got, want, b)
	}
}

func TestEventFrame(t *testing.T) {
	tests := []struct {
		name                         string
		event, channel, data, userID string
		want                         map[string]any
	}{
		{"channel event", "my-event", "my-channel", `{"message":"hello world"}`, "",
			map[string]any{"event": "my-event", "channel": "my-channel", "data": `{"message":"hello world"}`}},
		{"no channel", "pusher:pong", "", "{}", "",
			map[string]any{"event": "pusher:pong", "data": "{}"}},
		{"empty data is kept", "e", "c", "", "",
			map[string]any{"event": "e", "channel": "c", "data": ""}},
		{"presence client event carries user_id", "client-typing", "presence-room", `{"t":1}`, "42",
			map[string]any{"event": "client-typing", "channel": "presence-room", "data": `{"t":1}`, "user_id": "42"}},
		{"escapes in every field", "a\"b", "c\\d", "line\n\u2028\x00", "u\"1",
			map[string]any{"event": "a\"b", "channel": "c\\d", "data": "line\n\u2028\x00", "user_id": "u\"1"}},
		{"invalid UTF-8 data", "e", "c", "\xff", "",
			map[string]any{"event": "e", "channel": "c", "data": "\ufffd"}},
		{"encrypted payload relayed as string", "e", "private-encrypted-x", `{"nonce":"bg==","ciphertext":"Y3Q="}`, "",
			map[string]any{"event": "e", "channel": "private-encrypted-x", "data": `{"nonce":"bg==","ciphertext":"Y3Q="}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkObject(t, "EventFrame", EventFrame(tt.event, tt.channel, tt.data, tt.userID), tt.want)
		})
	}
}

func TestConnectionEstablished(t *testing.T) {
	tests := []struct {
		socketID string
		timeout  int
	}{
		{"123.456", 120},
		{"1.1", 55},
		{"1234.1234", 0},
	}
	for _, tt := range tests {
		b := ConnectionEstablished(tt.socketID, tt.timeout)
		var f struct {
			Event string `json:"event"`
			Data  string `json:"data"` // double-encoded: a string
		}
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("ConnectionEstablished(%q, %d): got %s, want data as a JSON string: %v", tt.socketID, tt.timeout, b, err)
		}
		if f.Event != "pusher:connection_established" {
			t.Errorf("ConnectionEstablished event: got %q, want %q", f.Event, "pusher:connection_established")
		}
		want := map[string]any{"socket_id": tt.socketID, "activity_timeout": float64(tt.timeout)}
		checkObject(t, "ConnectionEstablished data", []byte(f.Data), want)
		if m := decodeObject(t, b); len(m) != 2 {
			t.Errorf("ConnectionEstablished: got fields %v, want event and data only", m)
		}
	}
	// The exact bytes of PROTOCOL.md C6.
	want := `{"event":"pusher:connection_established","data":"{\"socket_id\":\"123.456\",\"activity_timeout\":120}"}`
	if got := string(ConnectionEstablished("123.456", 120)); got != want {
		t.Errorf("ConnectionEstablished: got %s, want %s", got, want)
	}
}

func TestErrorFrame(t *testing.T) {
	tests := []struct {
		code    int
		message string
	}{
		{CodeAppNotFound, "Application does not exist"},
		{CodeClientEventLimit, "Client event rejected: rate limit"},
		{CodeInvalidMessage, `bad "frame"` + "\n\xff"},
		{0, ""},
	}
	for _, tt := range tests {
		msg, _ := decodedString(tt.message)
		want := map[string]any{
			"event": "pusher:error",
			"data":  map[string]any{"code": float64(tt.code), "message": msg},
		}
		checkObject(t, "ErrorFrame", ErrorFrame(tt.code, tt.message), want)
	}
}

func TestSubscriptionSucceeded(t *testing.T) {
	presence := `{"presence":{"ids":["1"],"hash":{"1":null},"count":1}}`
	tests := []struct {
		channel, data, wantData string
	}{
		{"my-channel", "", "{}"},
		{"private-x", "{}", "{}"},
		{"presence-room", presence, presence},
	}
	for _, tt := range tests {
		want := map[string]any{"event": "pusher_internal:subscription_succeeded", "channel": tt.channel, "data": tt.wantData}
		checkObject(t, "SubscriptionSucceeded", SubscriptionSucceeded(tt.channel, tt.data), want)
	}
}

func TestSubscriptionError(t *testing.T) {
	tests := []struct {
		channel, kind, message string
		status                 int
	}{
		{"private-x", "AuthError", "Invalid signature", 401},
		{"a b", "LimitReached", "Channel name is invalid", 4009},
		{"c\"", "t\\", "m\n", 0},
	}
	for _, tt := range tests {
		b := SubscriptionError(tt.channel, tt.kind, tt.message, tt.status)
		var f struct {
			Event   string `json:"event"`
			Channel string `json:"channel"`
			Data    string `json:"data"` // a JSON string, so that webman's JSON.parse(data) works
		}
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("SubscriptionError: got %s, want data as a JSON string: %v", b, err)
		}
		if f.Event != "pusher:subscription_error" || f.Channel != tt.channel {
			t.Errorf("SubscriptionError: got event %q channel %q, want pusher:subscription_error on %q", f.Event, f.Channel, tt.channel)
		}
		want := map[string]any{"type": tt.kind, "error": tt.message, "status": float64(tt.status)}
		checkObject(t, "SubscriptionError data", []byte(f.Data), want)
	}
}

func TestSigninSuccess(t *testing.T) {
	for _, userData := range []string{`{"id":"12345"}`, `{"id":"1","user_info":{"name":"Mr. \"Q\""}}`, ""} {
		want := map[string]any{"event": "pusher:signin_success", "data": map[string]any{"user_data": userData}}
		checkObject(t, "SigninSuccess", SigninSuccess(userData), want)
	}
}

func TestCacheMiss(t *testing.T) {
	for _, ch := range []string{"cache-news", "presence-cache-room", "x\"y"} {
		want := map[string]any{"event": "pusher:cache_miss", "channel": ch}
		checkObject(t, "CacheMiss", CacheMiss(ch), want)
	}
}

func TestPingPongFrames(t *testing.T) {
	checkObject(t, "PingFrame", PingFrame, map[string]any{"event": "pusher:ping", "data": "{}"})
	checkObject(t, "PongFrame", PongFrame, map[string]any{"event": "pusher:pong", "data": "{}"})
}

// decodedString is what a JSON decoder makes of s (invalid UTF-8 → U+FFFD).
func decodedString(s string) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	var out string
	err = json.Unmarshal(b, &out)
	return out, err
}

// parseFrameCases are frames as a client may send them; they seed the fuzz
// targets too.
var parseFrameCases = []struct {
	name string
	in   string
	want Frame // zero = an ErrBadFrame is expected
}{
	{"subscribe with object data", `{"event":"pusher:subscribe","data":{"channel":"my-channel"}}`,
		Frame{Event: "pusher:subscribe", Data: json.RawMessage(`{"channel":"my-channel"}`)}},
	{"subscribe with string data", `{"event":"pusher:subscribe","data":"{\"channel\":\"my-channel\"}"}`,
		Frame{Event: "pusher:subscribe", Data: json.RawMessage(`"{\"channel\":\"my-channel\"}"`)}},
	{"private subscribe", `{"event":"pusher:subscribe","data":{"auth":"278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4","channel":"private-foobar"}}`,
		Frame{Event: "pusher:subscribe", Data: json.RawMessage(`{"auth":"278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4","channel":"private-foobar"}`)}},
	{"ping", `{"event":"pusher:ping","data":{}}`, Frame{Event: "pusher:ping", Data: json.RawMessage(`{}`)}},
	{"ping without data", `{"event":"pusher:ping"}`, Frame{Event: "pusher:ping"}},
	{"null data", `{"event":"pusher:ping","data":null}`, Frame{Event: "pusher:ping", Data: json.RawMessage(`null`)}},
	{"client event", `{"event":"client-typing","channel":"private-chat","data":{"who":"me"}}`,
		Frame{Event: "client-typing", Channel: "private-chat", Data: json.RawMessage(`{"who":"me"}`)}},
	{"client event with number data", `{"event":"client-n","channel":"private-c","data":42}`,
		Frame{Event: "client-n", Channel: "private-c", Data: json.RawMessage(`42`)}},
	{"server event with user_id", `{"event":"client-x","channel":"presence-r","data":"{}","user_id":"7"}`,
		Frame{Event: "client-x", Channel: "presence-r", Data: json.RawMessage(`"{}"`), UserID: "7"}},
	{"whitespace around values", " {\n\"event\" : \"e\" ,\t\"data\" :  \"{}\" } \n",
		Frame{Event: "e", Data: json.RawMessage(`"{}"`)}},
	{"unknown fields ignored", `{"event":"e","extra":[1,2],"resume_from":3}`, Frame{Event: "e"}},
	{"unicode event", `{"event":"\u00e9v\u00e9nement"}`, Frame{Event: "événement"}},
	{"empty", ``, Frame{}},
	{"not JSON", `hello`, Frame{}},
	{"truncated", `{"event":"pusher:subscribe","data":{"channel":"x"}`, Frame{}},
	{"trailing garbage", `{"event":"e"} {}`, Frame{}},
	{"array", `[{"event":"e"}]`, Frame{}},
	{"string", `"pusher:ping"`, Frame{}},
	{"number", `42`, Frame{}},
	{"null", `null`, Frame{}},
	{"empty object", `{}`, Frame{}},
	{"empty event", `{"event":"","data":{}}`, Frame{}},
	{"event is a number", `{"event":1}`, Frame{}},
	{"event is null", `{"event":null}`, Frame{}},
	{"channel is an object", `{"event":"e","channel":{}}`, Frame{}},
	{"user_id is a number", `{"event":"e","user_id":5}`, Frame{}},
	{"invalid escape", `{"event":"\x"}`, Frame{}},
	{"invalid data", `{"event":"e","data":{"a":}}`, Frame{}},
	{"binary", "\x00\x01\x02", Frame{}},
}

func TestParseFrame(t *testing.T) {
	for _, tt := range parseFrameCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFrame([]byte(tt.in))
			if tt.want.Event == "" {
				if !errors.Is(err, ErrBadFrame) {
					t.Fatalf("ParseFrame(%q): got %+v, %v; want %v", tt.in, got, err, ErrBadFrame)
				}
				if !reflect.DeepEqual(got, Frame{}) {
					t.Errorf("ParseFrame(%q) on error: got %+v, want the zero Frame", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFrame(%q): got %v, want %+v", tt.in, err, tt.want)
			}
			if got.Event != tt.want.Event || got.Channel != tt.want.Channel || got.UserID != tt.want.UserID ||
				string(got.Data) != string(tt.want.Data) {
				t.Errorf("ParseFrame(%q):\n got %+v (data %s)\nwant %+v (data %s)", tt.in, got, got.Data, tt.want, tt.want.Data)
			}
		})
	}
}

func TestDataString(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    string
		wantErr bool
	}{
		{"missing", ``, "", false},
		{"null", `null`, "", false},
		{"object kept as text", `{"a":1}`, `{"a":1}`, false},
		{"object kept verbatim", `{ "a" : 1 }`, `{ "a" : 1 }`, false},
		{"array", `[1,"x"]`, `[1,"x"]`, false},
		{"number", `42`, `42`, false},
		{"boolean", `true`, `true`, false},
		{"string unquoted", `"hello"`, `hello`, false},
		{"empty string", `""`, ``, false},
		{"string with escapes", `"a\"b\n\u00e9\u2028"`, "a\"b\né\u2028", false},
		{"double-encoded object", `"{\"a\":1}"`, `{"a":1}`, false},
		{"triple-encoded object is unquoted once", `"\"{\\\"a\\\":1}\""`, `"{\"a\":1}"`, false},
		{"string null", `"null"`, `null`, false},
		{"unterminated string", `"abc`, "", true},
		{"string with bad escape", `"\x"`, "", true},
		{"invalid object", `{"a":}`, "", true},
		{"garbage", `abc`, "", true},
		{"trailing garbage", `{} x`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DataString(json.RawMessage(tt.data))
			if tt.wantErr {
				if !errors.Is(err, ErrBadFrame) {
					t.Fatalf("DataString(%s): got %q, %v; want %v", tt.data, got, err, ErrBadFrame)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("DataString(%s): got %q, %v; want %q", tt.data, got, err, tt.want)
			}
		})
	}
}

// decodeCases are pusher:subscribe data values; they seed FuzzDecodeSubscribe.
var decodeCases = []struct {
	name    string
	data    string
	want    SubscribeData
	wantErr bool
}{
	{"object", `{"channel":"my-channel"}`, SubscribeData{Channel: "my-channel"}, false},
	{"double-encoded object", `"{\"channel\":\"my-channel\"}"`, SubscribeData{Channel: "my-channel"}, false},
	{"private", `{"channel":"private-foobar","auth":"k:s"}`, SubscribeData{Channel: "private-foobar", Auth: "k:s"}, false},
	{"presence", `{"channel":"presence-r","auth":"k:s","channel_data":"{\"user_id\":10,\"user_info\":{\"name\":\"Mr. Channels\"}}"}`,
		SubscribeData{Channel: "presence-r", Auth: "k:s", ChannelData: `{"user_id":10,"user_info":{"name":"Mr. Channels"}}`}, false},
	{"double-encoded presence", `"{\"channel\":\"presence-r\",\"channel_data\":\"{\\\"user_id\\\":\\\"1\\\"}\"}"`,
		SubscribeData{Channel: "presence-r", ChannelData: `{"user_id":"1"}`}, false},
	{"resume position", `{"channel":"c","resume_from":18446744073709551615}`, SubscribeData{Channel: "c", Resume: 1<<64 - 1}, false},
	{"unknown fields ignored", `{"channel":"c","other":{"x":[1]}}`, SubscribeData{Channel: "c"}, false},
	{"empty object", `{}`, SubscribeData{}, false},
	{"null", `null`, SubscribeData{}, false},
	{"missing", ``, SubscribeData{}, true},
	{"channel is a number", `{"channel":5}`, SubscribeData{}, true},
	{"channel_data is an object", `{"channel":"presence-r","channel_data":{"user_id":1}}`, SubscribeData{}, true},
	{"negative resume", `{"channel":"c","resume_from":-1}`, SubscribeData{}, true},
	{"array", `[]`, SubscribeData{}, true},
	{"number", `1`, SubscribeData{}, true},
	{"string that is not an object", `"my-channel"`, SubscribeData{}, true},
	{"empty string", `""`, SubscribeData{}, true},
	{"unterminated string", `"{\"channel\":\"c\"}`, SubscribeData{}, true},
	{"malformed object", `{"channel":}`, SubscribeData{}, true},
	{"triple-encoded", `"\"{\\\"channel\\\":\\\"c\\\"}\""`, SubscribeData{}, true},
}

func TestDecodeData(t *testing.T) {
	for _, tt := range decodeCases {
		t.Run(tt.name, func(t *testing.T) {
			var got SubscribeData
			err := DecodeData(json.RawMessage(tt.data), &got)
			if tt.wantErr {
				if !errors.Is(err, ErrBadFrame) {
					t.Fatalf("DecodeData(%s): got %+v, %v; want %v", tt.data, got, err, ErrBadFrame)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("DecodeData(%s): got %+v, %v; want %+v", tt.data, got, err, tt.want)
			}
		})
	}
}

func TestDecodeSigninData(t *testing.T) {
	frame := `{"event":"pusher:signin","data":{"auth":"k:s","user_data":"{\"id\":\"12345\"}"}}`
	f, err := ParseFrame([]byte(frame))
	if err != nil {
		t.Fatalf("ParseFrame(%s): %v", frame, err)
	}
	var got SigninData
	if err := DecodeData(f.Data, &got); err != nil {
		t.Fatalf("DecodeData(%s): %v", f.Data, err)
	}
	if want := (SigninData{Auth: "k:s", UserData: `{"id":"12345"}`}); got != want {
		t.Errorf("DecodeData signin: got %+v, want %+v", got, want)
	}
}

// A frame parsed with whitespace before its data still decodes: the data a
// frame carries starts at the value itself.
func TestParseThenDecode(t *testing.T) {
	for _, in := range []string{
		`{"event":"pusher:subscribe","data":{"channel":"c"}}`,
		`{"event":"pusher:subscribe","data":"{\"channel\":\"c\"}"}`,
		"{\"event\":\"pusher:subscribe\",\"data\":  \n\"{\\\"channel\\\":\\\"c\\\"}\"  }",
		"{\"event\":\"pusher:subscribe\",\"data\":\t{ \"channel\" : \"c\" } }",
	} {
		f, err := ParseFrame([]byte(in))
		if err != nil {
			t.Fatalf("ParseFrame(%q): %v", in, err)
		}
		var got SubscribeData
		if err := DecodeData(f.Data, &got); err != nil || got.Channel != "c" {
			t.Errorf("DecodeData of %q: got %+v, %v; want channel %q", in, got, err, "c")
		}
	}
}

func FuzzParseFrame(f *testing.F) {
	for _, tt := range parseFrameCases {
		f.Add([]byte(tt.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := ParseFrame(b)
		checkAgainstEncodingJSON(t, b, fr, err)
		if err != nil {
			if !errors.Is(err, ErrBadFrame) {
				t.Fatalf("ParseFrame(%q): got error %v, want %v", b, err, ErrBadFrame)
			}
			return
		}
		if fr.Event == "" {
			t.Fatalf("ParseFrame(%q): accepted a frame without an event", b)
		}
		if len(fr.Data) > 0 && !json.Valid(fr.Data) {
			t.Fatalf("ParseFrame(%q): got data %q, want valid JSON", b, fr.Data)
		}
		// Whatever was accepted can be relayed: DataString never fails on
		// data that came out of ParseFrame.
		s, err := DataString(fr.Data)
		if err != nil {
			t.Fatalf("DataString(%q) of an accepted frame: %v", fr.Data, err)
		}
		checkJSONString(t, s, AppendJSONString(nil, s))
		var want string
		if len(fr.Data) > 0 && fr.Data[0] == '"' && json.Unmarshal(fr.Data, &want) == nil && s != want {
			t.Fatalf("DataString(%q) = %q; encoding/json gives %q", fr.Data, s, want)
		}
	})
}

func FuzzDecodeSubscribe(f *testing.F) {
	for _, tt := range decodeCases {
		f.Add([]byte(tt.data))
	}
	for _, tt := range parseFrameCases {
		f.Add([]byte(tt.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d SubscribeData
		if err := DecodeData(json.RawMessage(b), &d); err != nil && !errors.Is(err, ErrBadFrame) {
			t.Fatalf("DecodeData(%q): got error %v, want %v", b, err, ErrBadFrame)
		}
		// The same bytes as a whole frame, then its data.
		if fr, err := ParseFrame(b); err == nil {
			var d SubscribeData
			if err := DecodeData(fr.Data, &d); err != nil && !errors.Is(err, ErrBadFrame) {
				t.Fatalf("DecodeData(%q): got error %v, want %v", fr.Data, err, ErrBadFrame)
			}
		}
	})
}

// checkAgainstEncodingJSON holds ParseFrame to encoding/json on what both
// should read alike: valid JSON whose protocol keys are spelled in lower
// case (encoding/json also matches them in any case), once each.
func checkAgainstEncodingJSON(t *testing.T, b []byte, got Frame, err error) {
	t.Helper()
	var keys map[string]json.RawMessage
	if !json.Valid(b) || json.Unmarshal(b, &keys) != nil {
		return
	}
	seen := map[string]bool{}
	for k := range keys {
		l := strings.ToLower(k)
		if (l == "event" || l == "channel" || l == "data" || l == "user_id") && (k != l || seen[l]) {
			return
		}
		seen[l] = true
	}
	if bytes.Count(b, []byte(`"event"`))+bytes.Count(b, []byte(`"data"`))+bytes.Count(b, []byte(`"channel"`))+bytes.Count(b, []byte(`"user_id"`)) != len(seen) {
		return // a key repeated, or one of them inside a nested value
	}
	var want Frame
	werr := json.Unmarshal(b, &want)
	if werr == nil && want.Event == "" {
		werr = ErrBadFrame
	}
	if (err == nil) != (werr == nil) {
		t.Fatalf("ParseFrame(%q): error %v; encoding/json: %v", b, err, werr)
	}
	if err == nil && (got.Event != want.Event || got.Channel != want.Channel || got.UserID != want.UserID || !bytes.Equal(got.Data, want.Data)) {
		t.Fatalf("ParseFrame(%q):\n got %+v\nwant %+v", b, got, want)
	}
}

// BenchmarkParseFrame parses a client event as it arrives on a socket.
func BenchmarkParseFrame(b *testing.B) {
	frame := []byte(`{"event":"client-typing","channel":"private-chat.42","data":{"user":"alice","text":"hello there","at":1733580000}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseFrame(frame); err != nil {
			b.Fatal(err)
		}
	}
}
