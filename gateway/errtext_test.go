package gateway

import (
	"strings"
	"testing"

	"github.com/pushd/pushd/gateway/protocol"
)

func TestAuthMismatch(t *testing.T) {
	good := protocol.ChannelAuth("key", "secret", "1.2", "private-a", "")
	for _, tc := range []struct {
		auth, want string
	}{
		{"", "no auth given"},
		{"abcdef", `"app_key:signature"`},
		{"other:" + good[len("key:"):], "another app_key"},
		{"key:0000", "must sign socket_id:channel_name with this app's secret"},
	} {
		got := authMismatch(tc.auth, "key", channelSigned(protocol.Private))
		if !strings.Contains(got, tc.want) {
			t.Errorf("authMismatch(%q) = %q, want it to say %q", tc.auth, got, tc.want)
		}
		for _, leak := range []string{good[len("key:"):], "0000", "abcdef"} {
			if strings.Contains(got, leak) {
				t.Errorf("authMismatch(%q) = %q contains %q", tc.auth, got, leak)
			}
		}
	}
	if got := channelSigned(protocol.Presence); got != "socket_id:channel_name:channel_data" {
		t.Errorf("presence signs %q", got)
	}
}
