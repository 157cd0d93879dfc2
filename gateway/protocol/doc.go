// Package protocol holds the Pusher Channels protocol (v7) as plain data and
// functions: frames, channel and event name rules, error codes and the HMAC
// signatures of channel auth, user sign-in and the HTTP API.
//
// It imports nothing from this module so that the server and the Go client
// (including its WebAssembly build) share one definition of the wire format.
package protocol
