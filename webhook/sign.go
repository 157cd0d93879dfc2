package webhook

import (
	"crypto/hmac"

	"github.com/pushd/pushd/gateway/protocol"
)

// Sign returns the X-Pusher-Signature of a webhook body: the lower-case hex
// HMAC-SHA256 of the raw body keyed with the app secret (protocol.Sign, the
// one HMAC of the project).
func Sign(secret string, body []byte) string { return protocol.Sign(secret, string(body)) }

// Verify tells, in constant time, whether signature is Sign(secret, body);
// receivers use it as the Pusher SDKs do.
func Verify(secret string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(signature))
}
