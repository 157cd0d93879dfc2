package protocol

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The client side reads frames with this small scanner instead of
// encoding/json: it needs no reflection, which keeps the WebAssembly client
// small. FuzzParseEvent checks it against ParseFrame.

// ErrBadJSON reports input the scanner cannot read as JSON.
var ErrBadJSON = errors.New("invalid JSON")

// Event is a server frame as a client reads it.
type Event struct {
	Event   string
	Channel string
	// Data is the frame's data: a JSON string unquoted, any other JSON
	// value (an error's object) as its JSON text, "" when absent or null.
	Data   string
	UserID string
	// Seq is Pushd's stream position of the event (0: none), see
	// docs/protocol.md "resume after reconnect".
	Seq uint64
}

// ParseEvent decodes one server frame without reflection.
func ParseEvent(b []byte) (Event, error) {
	var e Event
	err := ScanObject(b, func(key string, v []byte) error {
		var err error
		switch key {
		case "event":
			e.Event, err = scanString(v)
		case "channel":
			e.Channel, err = scanString(v)
		case "data":
			e.Data, err = ValueString(v)
		case "user_id":
			e.UserID, err = ValueString(v)
		case "seq":
			e.Seq, err = strconv.ParseUint(string(v), 10, 64)
		}
		return err
	})
	if err != nil {
		return Event{}, err
	}
	if e.Event == "" {
		return Event{}, ErrBadFrame
	}
	return e, nil
}

// scanString decodes a JSON string or null ("").
func scanString(v []byte) (string, error) {
	if string(v) == "null" {
		return "", nil
	}
	return UnquoteJSON(v)
}

// ValueString returns a JSON value as the protocol relays it: a string
// unquoted, null as "", anything else as its JSON text.
func ValueString(v []byte) (string, error) {
	if len(v) > 0 && v[0] == '"' {
		return UnquoteJSON(v)
	}
	if string(v) == "null" {
		return "", nil
	}
	return string(v), nil
}

// ScanObject calls fn with each member of the JSON object b, in order; a
// value is passed as its raw JSON text.
func ScanObject(b []byte, fn func(key string, value []byte) error) error {
	i, empty, err := opening(b, '{', '}')
	if empty || err != nil {
		return err
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return ErrBadJSON
		}
		end, err := valueEnd(b, i)
		if err != nil {
			return err
		}
		key, err := UnquoteJSON(b[i:end])
		if err != nil {
			return err
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return ErrBadJSON
		}
		i = skipSpace(b, i+1)
		end, err = valueEnd(b, i)
		if err != nil {
			return err
		}
		if err := fn(key, b[i:end]); err != nil {
			return err
		}
		var more bool
		if i, more, err = afterValue(b, end, '}'); !more {
			return err
		}
	}
}

// ScanArray calls fn with each element of the JSON array b as raw JSON.
func ScanArray(b []byte, fn func(value []byte) error) error {
	i, empty, err := opening(b, '[', ']')
	if empty || err != nil {
		return err
	}
	for {
		end, err := valueEnd(b, i)
		if err != nil {
			return err
		}
		if err := fn(b[i:end]); err != nil {
			return err
		}
		var more bool
		if i, more, err = afterValue(b, end, ']'); !more {
			return err
		}
	}
}

func trailing(b []byte, i int) error {
	if skipSpace(b, i) != len(b) {
		return ErrBadJSON
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the index just after the JSON value starting at b[i].
// It checks the structure (brackets, strings, literals and numbers) but not
// every detail of number syntax.
func valueEnd(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, ErrBadJSON
	}
	switch c := b[i]; {
	case c == '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1, nil
			}
		}
		return 0, ErrBadJSON
	case c == '{' || c == '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := valueEnd(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
				if depth > 1000 {
					return 0, ErrBadJSON
				}
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, ErrBadJSON
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
				return i + len(lit), nil
			}
		}
		return 0, ErrBadJSON
	case c == '-' || c >= '0' && c <= '9':
		j := i + 1
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
			j++
		}
		return j, nil
	}
	return 0, ErrBadJSON
}

// UnquoteJSON decodes a JSON string literal (quotes included). Invalid
// UTF-8 and lone surrogates become U+FFFD, as in encoding/json.
func UnquoteJSON(v []byte) (string, error) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", ErrBadJSON
	}
	v = v[1 : len(v)-1]
	simple := true
	for _, c := range v {
		if c == '\\' || c == '"' || c < 0x20 || c >= utf8.RuneSelf {
			simple = false
			break
		}
	}
	if simple {
		return string(v), nil
	}
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); {
		c := v[i]
		switch {
		case c == '\\':
			if i+1 >= len(v) {
				return "", ErrBadJSON
			}
			i++
			switch v[i] {
			case '"', '\\', '/':
				out = append(out, v[i])
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(v, i+1)
				if !ok {
					return "", ErrBadJSON
				}
				i += 4
				if utf16.IsSurrogate(r) {
					if r2, ok := hex4(v, i+3); ok && i+2 < len(v) && v[i+1] == '\\' && v[i+2] == 'u' {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							out = utf8.AppendRune(out, dec)
							i += 6 + 1
							continue
						}
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
			default:
				return "", ErrBadJSON
			}
			i++
		case c == '"' || c < 0x20:
			return "", ErrBadJSON
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(v[i:])
			if r == utf8.RuneError && size == 1 {
				out = append(out, "\uFFFD"...)
			} else {
				out = append(out, v[i:i+size]...)
			}
			i += size
		}
	}
	return string(out), nil
}

func hex4(v []byte, i int) (rune, bool) {
	if i+4 > len(v) {
		return 0, false
	}
	var r rune
	for _, c := range v[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// SubscribeFrame encodes the pusher:subscribe frame a client sends; its
// data is an object, with Pushd's resume fields when set.
func SubscribeFrame(d SubscribeData) []byte {
	buf := []byte(`{"event":"pusher:subscribe","data":{"channel":`)
	buf = AppendJSONString(buf, d.Channel)
	if d.Auth != "" {
		buf = append(buf, `,"auth":`...)
		buf = AppendJSONString(buf, d.Auth)
	}
	if d.ChannelData != "" {
		buf = append(buf, `,"channel_data":`...)
		buf = AppendJSONString(buf, d.ChannelData)
	}
	if d.Resume > 0 {
		buf = append(buf, `,"resume_from":`...)
		buf = strconv.AppendUint(buf, d.Resume, 10)
		if d.ResumeSocket != "" {
			buf = append(buf, `,"resume_socket_id":`...)
			buf = AppendJSONString(buf, d.ResumeSocket)
		}
	}
	return append(buf, `}}`...)
}

// UnsubscribeFrame encodes a client's pusher:unsubscribe.
func UnsubscribeFrame(channel string) []byte {
	buf := []byte(`{"event":"pusher:unsubscribe","data":{"channel":`)
	buf = AppendJSONString(buf, channel)
	return append(buf, `}}`...)
}

// SigninFrame encodes a client's pusher:signin.
func SigninFrame(d SigninData) []byte {
	buf := []byte(`{"event":"pusher:signin","data":{"auth":`)
	buf = AppendJSONString(buf, d.Auth)
	buf = append(buf, `,"user_data":`...)
	buf = AppendJSONString(buf, d.UserData)
	return append(buf, `}}`...)
}

// ClientEventFrame encodes a client event; dataJSON is the JSON text of the
// data (an object is sent as an object, as push.js does) and must be valid.
func ClientEventFrame(event, channel, dataJSON string) []byte {
	buf := make([]byte, 0, len(event)+len(channel)+len(dataJSON)+40)
	buf = append(buf, `{"event":`...)
	buf = AppendJSONString(buf, event)
	buf = append(buf, `,"channel":`...)
	buf = AppendJSONString(buf, channel)
	buf = append(buf, `,"data":`...)
	buf = append(buf, dataJSON...)
	return append(buf, '}')
}

// afterValue moves past a value of an object or array that ends at end: to
// the next value after a comma (more), or past the closing byte, which must
// end the input (err from trailing).
func afterValue(b []byte, end int, closing byte) (i int, more bool, err error) {
	i = skipSpace(b, end)
	if i >= len(b) {
		return 0, false, ErrBadJSON
	}
	switch b[i] {
	case ',':
		return skipSpace(b, i+1), true, nil
	case closing:
		return 0, false, trailing(b, i+1)
	}
	return 0, false, ErrBadJSON
}

// opening reads the opening bracket of the object or array that b must be
// and returns where its first member starts, or that it is empty (then err
// is what trailing says of the rest).
func opening(b []byte, open, closing byte) (i int, empty bool, err error) {
	i = skipSpace(b, 0)
	if i >= len(b) || b[i] != open {
		return 0, false, ErrBadJSON
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == closing {
		return 0, true, trailing(b, i+1)
	}
	return i, false, nil
}
