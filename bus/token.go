package bus

import (
	"errors"
	"strings"
)

// EncodeToken turns any string into one NATS subject token (and KV key
// token): [A-Za-z0-9-] stay as they are, every other byte becomes "_XX" in
// upper-case hex, and the empty string becomes "_". The mapping is reversible
// and never produces '.', '*', '>' or white space.
func EncodeToken(s string) string {
	if s == "" {
		return "_"
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !plainTokenByte(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if plainTokenByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('_')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

// ErrBadToken reports a string that EncodeToken cannot have produced.
var ErrBadToken = errors.New("bus: malformed token")

// DecodeToken reverses EncodeToken.
func DecodeToken(t string) (string, error) {
	if t == "_" {
		return "", nil
	}
	if t == "" {
		return "", ErrBadToken
	}
	if !strings.Contains(t, "_") {
		for i := 0; i < len(t); i++ {
			if !plainTokenByte(t[i]) {
				return "", ErrBadToken
			}
		}
		return t, nil
	}
	b := make([]byte, 0, len(t))
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c != '_' {
			if !plainTokenByte(c) {
				return "", ErrBadToken
			}
			b = append(b, c)
			continue
		}
		if i+2 >= len(t) {
			return "", ErrBadToken
		}
		hi, ok1 := unhex(t[i+1])
		lo, ok2 := unhex(t[i+2])
		if !ok1 || !ok2 {
			return "", ErrBadToken
		}
		v := hi<<4 | lo
		if plainTokenByte(v) {
			return "", ErrBadToken // not canonical: EncodeToken never escapes it
		}
		b = append(b, v)
		i += 2
	}
	return string(b), nil
}

func plainTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
