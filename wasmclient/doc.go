// Package wasmclient is Pushd's client of the Pusher Channels protocol 7: one
// core for Go programs (over gws) and for browsers (compiled with GOOS=js
// GOARCH=wasm, over the browser's WebSocket; see cmd/pushwasm).
//
// It connects, subscribes to public, private, encrypted and presence
// channels with a pluggable Authorizer, binds handlers per channel and
// globally, sends client events, signs users in, keeps the connection alive
// with pusher:ping, reconnects with back-off and jitter, and resubscribes
// with Pushd's resume extension so that no event is lost, doubled or
// reordered across a reconnect (docs/protocol.md). When the server cannot
// replay what was missed the channel gets pusher:recovery_failed and takes
// the position the server continues from.
//
// The frame format comes from gateway/protocol, shared with the server. The
// core avoids fmt and encoding/json to keep push.wasm small.
package wasmclient
