package e2e

import "testing"

// TestBrowserEncrypted runs e2e/browser/encrypted.test.mjs: push.js on
// private-encrypted- channels in headless Chromium, with Pusher's Node SDK
// as the app's backend (shared_secret in the auth answer, events sealed with
// NaCl secretbox). Run with
//
//	cd e2e && go test -run TestBrowserEncrypted -count=1 .
func TestBrowserEncrypted(t *testing.T) {
	runBrowserNode(t, startPushd(t, ""), "encrypted.test.mjs")
}
