package protocol

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Event
	}{
		{"connection established", string(ConnectionEstablished("1.2", 120)),
			Event{Event: "pusher:connection_established", Data: `{"socket_id":"1.2","activity_timeout":120}`}},
		{"event with seq", string(WithSeq(EventFrame("e", "c", `{"a":"\"x\""}`, ""), 42)),
			Event{Event: "e", Channel: "c", Data: `{"a":"\"x\""}`, Seq: 42}},
		{"client event with user", string(EventFrame("client-x", "presence-a", "hi\u2028\n", "u1")),
			Event{Event: "client-x", Channel: "presence-a", Data: "hi\u2028\n", UserID: "u1"}},
		{"error object", string(ErrorFrame(4300, "bad")),
			Event{Event: "pusher:error", Data: `{"code":4300,"message":"bad"}`}},
		{"subscription error", string(SubscriptionError("private-a", "AuthError", "no", 401)),
			Event{Event: "pusher:subscription_error", Channel: "private-a", Data: `{"type":"AuthError","error":"no","status":401}`}},
		{"cache miss without data", string(CacheMiss("cache-a")), Event{Event: "pusher:cache_miss", Channel: "cache-a"}},
		{"recovery failed", string(RecoveryFailed("c", 0)), Event{Event: "pusher:recovery_failed", Channel: "c", Data: "{}"}},
		{"recovery failed with the first position kept", string(WithSeq(RecoveryFailed("c", 1796649485357245), 1796649485357300)),
			Event{Event: "pusher:recovery_failed", Channel: "c", Data: `{"first_seq":1796649485357245}`, Seq: 1796649485357300}},
		{"spaces, unknown fields, null", " {\n\"x\" : [1, {\"y\":\"]}\"}] , \"event\":\"e\",\"data\":null, \"user_id\": 7 } ",
			Event{Event: "e", UserID: "7"}},
		{"escapes", `{"event":"\u00e9\ud83d\ude00\/\t","data":"\ud800x"}`, Event{Event: "é😀/\t", Data: "\uFFFDx"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEvent([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParseEvent(%s): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseEvent(%s):\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
	for _, bad := range []string{``, `[]`, `{}`, `{"event":}`, `{"event":"e"`, `{"event":"e"} x`, `{"event":1}`,
		`{"event":"e","seq":-1}`, `{"event":"e","data":"\x"}`, `{"event":"e",}`, `{"event":"e","data":tru}`} {
		if got, err := ParseEvent([]byte(bad)); err == nil {
			t.Errorf("ParseEvent(%q): got %+v, want an error", bad, got)
		}
	}
}

func TestClientFrames(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"subscribe", SubscribeFrame(SubscribeData{Channel: "a"}), `{"event":"pusher:subscribe","data":{"channel":"a"}}`},
		{"subscribe presence resume", SubscribeFrame(SubscribeData{Channel: "presence-a", Auth: "k:s", ChannelData: `{"user_id":"1"}`, Resume: 9, ResumeSocket: "1.2"}),
			`{"event":"pusher:subscribe","data":{"channel":"presence-a","auth":"k:s","channel_data":"{\"user_id\":\"1\"}","resume_from":9,"resume_socket_id":"1.2"}}`},
		{"unsubscribe", UnsubscribeFrame("a"), `{"event":"pusher:unsubscribe","data":{"channel":"a"}}`},
		{"signin", SigninFrame(SigninData{Auth: "k:s", UserData: `{"id":"1"}`}), `{"event":"pusher:signin","data":{"auth":"k:s","user_data":"{\"id\":\"1\"}"}}`},
		{"client event", ClientEventFrame("client-a", "private-a", `{"x":1}`), `{"event":"client-a","channel":"private-a","data":{"x":1}}`},
	}
	for _, tt := range tests {
		if string(tt.got) != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, tt.got, tt.want)
		}
		f, err := ParseFrame(tt.got)
		if err != nil {
			t.Errorf("%s: the server cannot parse %s: %v", tt.name, tt.got, err)
			continue
		}
		if strings.HasPrefix(f.Event, "pusher:subscribe") {
			var d SubscribeData
			if err := DecodeData(f.Data, &d); err != nil {
				t.Errorf("%s: DecodeData: %v", tt.name, err)
			}
		}
	}
}

// FuzzParseEvent checks the scanner against encoding/json: whatever
// ParseFrame accepts, ParseEvent reads the same way.
func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{
		string(ConnectionEstablished("1.2", 120)), string(WithSeq(EventFrame("e", "c", "d\"\u2028", "u"), 3)),
		string(ErrorFrame(1, "x")), `{"event":"e","data":{"a":[1,"]"]}}`, `{"event":"\ud83d\ude00\ud800","data":"\ud83dx"}`,
		"{\"event\":\"\xff\"}", `{"Event":"e","event":"f"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseEvent(b)
		want, werr := ParseFrame(b)
		if werr != nil || !json.Valid(b) {
			return
		}
		// encoding/json matches keys case-insensitively; the protocol does not.
		var keys map[string]json.RawMessage
		if json.Unmarshal(b, &keys) != nil {
			return
		}
		for k := range keys {
			switch strings.ToLower(k) {
			case "event", "channel", "data", "user_id", "seq":
				if k != strings.ToLower(k) {
					return
				}
			}
		}
		if err != nil {
			if _, hasSeq := keys["seq"]; hasSeq {
				return // seq is not part of Frame
			}
			t.Fatalf("ParseEvent(%q): %v; ParseFrame accepted it", b, err)
		}
		data, derr := DataString(want.Data)
		if derr != nil {
			return
		}
		if got.Event != want.Event || got.Channel != want.Channel || got.UserID != want.UserID || got.Data != data {
			t.Fatalf("ParseEvent(%q):\n got %+v\nwant %+v (data %q)", b, got, want, data)
		}
	})
}
