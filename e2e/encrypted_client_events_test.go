package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestNoClientEventsOnEncryptedChannels: as with Pusher (and pusher-js,
// which refuses to send them), a client event on a private-encrypted-
// channel is refused with an error frame and reaches nobody.
func TestNoClientEventsOnEncryptedChannels(t *testing.T) {
	s := startPushd(t, "")
	const ch = "private-encrypted-noclient"
	a, aid := connect(t, s, "app-key")
	subscribePrivate(t, a, aid, ch)
	b, bid := connect(t, s, "app-key")
	subscribePrivate(t, b, bid, ch)
	a.send(`{"event":"client-x","channel":"` + ch + `","data":{"plain":"text"}}`)
	f := a.expect("pusher:error")
	if code := errorCode(t, f); code != 4301 && code != 4300 {
		t.Fatalf("client event on an encrypted channel: %s, want a 4300/4301 error", f.raw)
	}
	if !strings.Contains(string(f.raw), "encrypted") {
		t.Fatalf("error %s does not say why (encrypted channel)", f.raw)
	}
	b.expectNothing(500 * time.Millisecond)
}
