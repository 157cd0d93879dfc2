package e2e

import "testing"

// The pusher-js / pusher SDK suites in e2e/node, one Go test (and one fresh
// server) per file so that per-app limits (connection counts, rate limits)
// of one file cannot affect another. Run with:
//
//	cd e2e && go test -run PusherJS -count=1 ./...
//
// e2e/node/node_modules must exist (npm ci in e2e/node).

func TestPusherJSConnection(t *testing.T) {
	runNode(t, startPushd(t, ""), "connection.test.mjs")
}

func TestPusherJSPublic(t *testing.T) {
	runNode(t, startPushd(t, ""), "public.test.mjs")
}

func TestPusherJSPrivate(t *testing.T) {
	runNode(t, startPushd(t, ""), "private.test.mjs")
}

func TestPusherJSClientEvents(t *testing.T) {
	runNode(t, startPushd(t, ""), "clientevents.test.mjs")
}

func TestPusherJSSignin(t *testing.T) {
	runNode(t, startPushd(t, ""), "signin.test.mjs")
}

func TestPusherJSCache(t *testing.T) {
	runNode(t, startPushd(t, ""), "cache.test.mjs")
}

func TestPusherJSAPI(t *testing.T) {
	runNode(t, startPushd(t, ""), "api.test.mjs")
}

// TestPusherJSResume: pushd-resume with pusher-js 8 and Laravel Echo 2
// (e2e/node/resume.test.mjs): cuts through a TCP proxy while events flow.
func TestPusherJSResume(t *testing.T) {
	runNode(t, startPushd(t, ""), "resume.test.mjs")
}

// TestPusherJSResumeEcho: pushd-resume with Laravel Echo 2 (broadcasters
// pusher and reverb), e2e/node/resume_echo.test.mjs.
func TestPusherJSResumeEcho(t *testing.T) {
	runNode(t, startPushd(t, ""), "resume_echo.test.mjs")
}

// TestPusherJSResumeGap: a resume from a position older than the stream
// keeps (history_max_age 6 s here) gives pushd:resume_failed with the first
// position still stored (e2e/node/resume_gap.test.mjs). No window of recent
// events: it would answer from memory.
func TestPusherJSResumeGap(t *testing.T) {
	runNode(t, startPushdWith(t, `
resume_window_bytes: -1
apps:
  - id: "1"
    key: app-key
    secret: app-secret
    history_max_age: 6s
`), "resume_gap.test.mjs")
}
