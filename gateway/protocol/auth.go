package protocol

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// Sign returns the lower-case hex HMAC-SHA256 of msg under secret.
func Sign(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// ChannelAuth returns the auth string "key:signature" that lets socketID
// subscribe to channel; channelData is signed too for presence channels.
func ChannelAuth(key, secret, socketID, channel, channelData string) string {
	msg := socketID + ":" + channel
	if channelData != "" {
		msg += ":" + channelData
	}
	return key + ":" + Sign(secret, msg)
}

// UserAuth returns the auth string of a pusher:signin for userData.
func UserAuth(key, secret, socketID, userData string) string {
	return key + ":" + Sign(secret, socketID+"::user::"+userData)
}

// ErrBadSignature reports an auth string that does not match; it never says
// what the expected value was.
var ErrBadSignature = errors.New("invalid signature")

// VerifyAuth checks an auth string "key:signature" against the expected one
// in constant time.
func VerifyAuth(auth, want string) error {
	if !strings.Contains(auth, ":") {
		return errors.New("invalid auth: expected key:signature")
	}
	if !hmac.Equal([]byte(auth), []byte(want)) {
		return ErrBadSignature
	}
	return nil
}
