package gateway

import (
	"strings"

	"github.com/pushd/pushd/gateway/protocol"
)

// The texts of pusher:error and pusher:subscription_error say what to change,
// in the terms of new Push({url, app_key, auth}), the app's auth endpoint and
// the server's config. None contains a secret or a signature; those that go
// out as close reasons too stay within a close frame's 123 bytes.

// authMismatch says why an auth string does not admit this socket and who
// must sign what: signed names the signed string, e.g. "socket_id:channel_name".
func authMismatch(auth, appKey, signed string) string {
	key, _, ok := strings.Cut(auth, ":")
	switch {
	case auth == "":
		return "no auth given: the auth endpoint (new Push({auth})) must answer {\"auth\": \"app_key:signature\"}"
	case !ok:
		return "auth is not \"app_key:signature\": send the auth endpoint's answer unchanged"
	case key != appKey:
		return "auth was signed for another app_key: the auth endpoint must use this app's key and secret"
	}
	return "signature does not match: the auth endpoint must sign " + signed + " with this app's secret, for this socket_id"
}

// channelSigned names what a channel's auth signs.
func channelSigned(kind protocol.Kind) string {
	if kind == protocol.Presence {
		return "socket_id:channel_name:channel_data"
	}
	return "socket_id:channel_name"
}

// Messages used in more than one place.
const (
	msgAppDisabled  = "application is disabled: set disabled: false for this app in the server's config"
	msgShuttingDown = "server shutting down: reconnect in a moment (Push and pusher-js do so by themselves)"
)
