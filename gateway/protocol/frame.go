package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Frame is one message of the protocol, as it arrives from either side.
type Frame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
	UserID  string          `json:"user_id,omitempty"`
}

// ErrBadFrame reports a frame that is not a JSON object with an event name.
var ErrBadFrame = errors.New("invalid frame")

// ParseFrame decodes one text frame. It reads the object with the scanner
// of scan.go, without reflection (a client event is parsed on its sender's
// socket: encoding/json cost it ten times as much), matching keys exactly
// as the protocol spells them; data must be valid JSON.
func ParseFrame(b []byte) (Frame, error) {
	var f Frame
	err := ScanObject(b, func(key string, v []byte) error {
		var err error
		switch key {
		case "event":
			f.Event, err = scanString(v)
		case "channel":
			f.Channel, err = scanString(v)
		case "data":
			f.Data = append(json.RawMessage(nil), v...)
		case "user_id":
			f.UserID, err = scanString(v)
		}
		return err
	})
	if err != nil {
		return Frame{}, fmt.Errorf("%w: %v", ErrBadFrame, err)
	}
	if len(f.Data) > 0 && !json.Valid(f.Data) {
		return Frame{}, fmt.Errorf("%w: data is not JSON", ErrBadFrame)
	}
	if f.Event == "" {
		return Frame{}, fmt.Errorf("%w: no event name", ErrBadFrame)
	}
	return f, nil
}

// DataString returns the frame's data as the string the protocol relays: a
// JSON string is unquoted, anything else (object, array, number) is kept as
// its JSON text. Missing data is the empty string.
func DataString(data json.RawMessage) (string, error) {
	if len(data) == 0 || string(data) == "null" {
		return "", nil
	}
	if !json.Valid(data) {
		return "", fmt.Errorf("%w: data is not JSON", ErrBadFrame)
	}
	if data[0] == '"' {
		// Valid JSON that starts with a quote is one string literal.
		s, err := UnquoteJSON(data)
		if err != nil {
			return "", fmt.Errorf("%w: data: %v", ErrBadFrame, err)
		}
		return s, nil
	}
	return string(data), nil
}

// DecodeData decodes a frame's data into v, accepting both an object and a
// JSON string that holds the object (older clients double-encode).
func DecodeData(data json.RawMessage, v any) error {
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("%w: data: %v", ErrBadFrame, err)
		}
		data = []byte(s)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: data: %v", ErrBadFrame, err)
	}
	return nil
}

// WithSeq returns a copy of an event frame with Pushd's stream position
// added as the top-level field "seq" (see docs/protocol.md); pusher-js
// ignores it.
func WithSeq(frame []byte, seq uint64) []byte {
	if seq == 0 || len(frame) == 0 || frame[len(frame)-1] != '}' {
		return frame
	}
	out := make([]byte, 0, len(frame)+28)
	out = append(out, frame[:len(frame)-1]...)
	out = append(out, `,"seq":`...)
	out = strconv.AppendUint(out, seq, 10)
	return append(out, '}')
}

// RecoveryFailed tells a resuming subscriber that the events it missed
// cannot all be replayed; the app should fetch its state again. first, when
// known (not 0), is the first position after the client's that the stream
// still holds, sent as the data's first_seq: every event of the channel
// from it on can still be read (the history API). The server adds
// (WithSeq) the position live delivery continues after, which the client
// takes as its own.
func RecoveryFailed(channel string, first uint64) []byte {
	buf := []byte(`{"event":"pusher:recovery_failed","channel":`)
	buf = AppendJSONString(buf, channel)
	if first == 0 {
		return append(buf, `,"data":"{}"}`...)
	}
	buf = append(buf, `,"data":"{\"first_seq\":`...)
	buf = strconv.AppendUint(buf, first, 10)
	return append(buf, `}"}`...)
}

// SubscribeData is the data of a pusher:subscribe frame.
type SubscribeData struct {
	Channel     string `json:"channel"`
	Auth        string `json:"auth,omitempty"`
	ChannelData string `json:"channel_data,omitempty"`
	// Resume is Pushd's extension: the last stream position ("seq") the
	// client saw on this channel; the server replays what came after it.
	Resume uint64 `json:"resume_from,omitempty"`
	// ResumeSocket is the socket id the client had then: events that were
	// triggered excluding it are not replayed to it.
	ResumeSocket string `json:"resume_socket_id,omitempty"`
	// WantSeq asks for the stream position in subscription_succeeded, as
	// a Pushd client (client=pushd-…) always gets it: what pushd-resume
	// sends for pusher-js, which cannot change its connection URL.
	WantSeq bool `json:"want_seq,omitempty"`
}

// SigninData is the data of a pusher:signin frame.
type SigninData struct {
	Auth     string `json:"auth"`
	UserData string `json:"user_data"`
}

// EventFrame encodes an event for a channel with string data, the shape that
// every server-sent channel event has. userID is added when not empty.
func EventFrame(event, channel, data, userID string) []byte {
	buf := make([]byte, 0, len(event)+len(channel)+len(data)+len(userID)+64)
	buf = append(buf, `{"event":`...)
	buf = AppendJSONString(buf, event)
	if channel != "" {
		buf = append(buf, `,"channel":`...)
		buf = AppendJSONString(buf, channel)
	}
	buf = append(buf, `,"data":`...)
	buf = AppendJSONString(buf, data)
	if userID != "" {
		buf = append(buf, `,"user_id":`...)
		buf = AppendJSONString(buf, userID)
	}
	return append(buf, '}')
}

// ConnectionEstablished is the first frame on every connection.
func ConnectionEstablished(socketID string, activityTimeout int) []byte {
	data := `{"socket_id":` + string(AppendJSONString(nil, socketID)) +
		`,"activity_timeout":` + strconv.Itoa(activityTimeout) + `}`
	return EventFrame("pusher:connection_established", "", data, "")
}

// ErrorFrame encodes a pusher:error frame. Its data stays an object, as the
// protocol documents it: pusher-js reads either form, and webman/push's
// clients read data.message from the object (a string would lose the text).
func ErrorFrame(code int, message string) []byte {
	buf := []byte(`{"event":"pusher:error","data":{"code":`)
	buf = strconv.AppendInt(buf, int64(code), 10)
	buf = append(buf, `,"message":`...)
	buf = AppendJSONString(buf, message)
	return append(buf, `}}`...)
}

// SubscriptionSucceeded confirms a subscription; data is "{}" except on
// presence channels.
func SubscriptionSucceeded(channel, data string) []byte {
	if data == "" {
		data = "{}"
	}
	return EventFrame("pusher_internal:subscription_succeeded", channel, data, "")
}

// SubscriptionError refuses a subscription with the shape pusher-js apps bind
// to: {"type","error","status"}. The data is that object JSON-encoded into a
// string, as every server-sent channel event's data is: pusher-js decodes a
// string (or takes an object) before it emits pusher:subscription_error,
// while webman/push's clients JSON.parse the data of every channel frame and
// throw on an object (docs/protocol.md, "Error frames").
func SubscriptionError(channel, kind, message string, status int) []byte {
	data := make([]byte, 0, len(kind)+len(message)+48)
	data = append(data, `{"type":`...)
	data = AppendJSONString(data, kind)
	data = append(data, `,"error":`...)
	data = AppendJSONString(data, message)
	data = append(data, `,"status":`...)
	data = strconv.AppendInt(data, int64(status), 10)
	data = append(data, '}')
	return EventFrame("pusher:subscription_error", channel, string(data), "")
}

// CacheMiss tells a subscriber of a cache channel that nothing is cached.
func CacheMiss(channel string) []byte {
	buf := []byte(`{"event":"pusher:cache_miss","channel":`)
	buf = AppendJSONString(buf, channel)
	return append(buf, '}')
}

// SigninSuccess confirms a pusher:signin.
func SigninSuccess(userData string) []byte {
	buf := []byte(`{"event":"pusher:signin_success","data":{"user_data":`)
	buf = AppendJSONString(buf, userData)
	return append(buf, `}}`...)
}

// Frames with no variable part.
var (
	PongFrame = []byte(`{"event":"pusher:pong","data":"{}"}`)
	PingFrame = []byte(`{"event":"pusher:ping","data":"{}"}`)
)
