//go:build !js

package wasmclient_test

import (
	"log"
	"strconv"

	"github.com/pushd/pushd/wasmclient"
)

// A Go program that follows a private channel, authorized by the app's
// backend, and answers on it with client events.
func Example() {
	c := wasmclient.New(wasmclient.Options{
		URL:        "ws://127.0.0.1:3131",
		Key:        "app-key",
		Authorizer: wasmclient.HTTPAuthorizer{URL: "https://app.example.com/plugin/webman/push/auth"},
		OnStateChange: func(prev, cur wasmclient.State) {
			log.Printf("connection %s -> %s", prev, cur)
		},
	})
	ch := c.Subscribe("private-user-1")
	ch.Bind("message", func(e wasmclient.Event) {
		log.Printf("message %s (seq %d)", e.Data, e.Seq)
		ch.Trigger("client-ack", `{"seq":`+strconv.FormatUint(e.Seq, 10)+`}`)
	})
	ch.Bind("pusher:recovery_failed", func(wasmclient.Event) {
		log.Print("missed events are gone: reload the state")
	})
	c.Connect()
	defer c.Disconnect()
}
