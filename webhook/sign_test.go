package webhook

import "testing"

func TestSign(t *testing.T) {
	// Computed independently (Python hmac) for the app secret of PROTOCOL.md C75.
	const (
		secret = "7ad3773142a6692b25b8"
		body   = `{"time_ms":1327078148132,"events":[{"name":"channel_occupied","channel":"test_channel"}]}`
		want   = "709fdb84c03664445f7698120b0edf0acc1ab1c8c6e93a0368c61841d6b998aa"
	)
	if got := Sign(secret, []byte(body)); got != want {
		t.Fatalf("Sign: got %s, want %s", got, want)
	}
	if !Verify(secret, []byte(body), want) {
		t.Fatal("Verify rejected the right signature")
	}
	for _, bad := range []string{"", want[:63], "709FDB84C03664445F7698120B0EDF0ACC1AB1C8C6E93A0368C61841D6B998AA"} {
		if Verify(secret, []byte(body), bad) {
			t.Errorf("Verify accepted %q", bad)
		}
	}
	if Verify("other", []byte(body), want) {
		t.Error("Verify accepted a signature made with another secret")
	}
}
