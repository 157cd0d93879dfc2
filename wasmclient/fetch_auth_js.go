//go:build js && wasm

package wasmclient

import (
	"context"
	"errors"
	"syscall/js"
)

// FetchAuthorizer asks an app's backend with the browser's fetch, as
// push.js does: a form POST of channel_name & socket_id to URL (socket_id
// to UserURL for sign-in), answered with JSON.
type FetchAuthorizer struct {
	URL, UserURL string
	Headers      map[string]string
}

// Authorize posts channel_name and socket_id to URL.
func (a FetchAuthorizer) Authorize(ctx context.Context, socketID, channel string) (ChannelAuth, error) {
	body, err := a.post(ctx, a.URL, "channel_name="+escape(channel)+"&socket_id="+escape(socketID))
	if err != nil {
		return ChannelAuth{}, err
	}
	return parseChannelAuth(body)
}

// Authenticate posts socket_id to UserURL.
func (a FetchAuthorizer) Authenticate(ctx context.Context, socketID string) (UserAuth, error) {
	body, err := a.post(ctx, a.UserURL, "socket_id="+escape(socketID))
	if err != nil {
		return UserAuth{}, err
	}
	return parseUserAuth(body)
}

func escape(s string) string {
	return js.Global().Call("encodeURIComponent", s).String()
}

func (a FetchAuthorizer) post(ctx context.Context, url, body string) ([]byte, error) {
	headers := map[string]any{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range a.Headers {
		headers[k] = v
	}
	init := map[string]any{"method": "POST", "headers": headers, "body": body, "credentials": "same-origin"}
	resp, err := Await(ctx, js.Global().Call("fetch", url, init))
	if err != nil {
		return nil, err
	}
	text, err := Await(ctx, resp.Call("text"))
	if err != nil {
		return nil, err
	}
	if status := resp.Get("status").Int(); status/100 != 2 {
		return nil, statusError(status)
	}
	return []byte(text.String()), nil
}

// Await waits for a JavaScript promise. Call it from a goroutine, never
// from a function JavaScript called (that would block the event loop).
func Await(ctx context.Context, promise js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	then := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{v: args[0]}
		return nil
	})
	catch := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{err: errors.New(js.Global().Get("String").Invoke(args[0]).String())}
		return nil
	})
	promise.Call("then", then, catch)
	select {
	case r := <-ch:
		then.Release()
		catch.Release()
		return r.v, r.err
	case <-ctx.Done():
		// then/catch stay alive: the promise may still settle.
		return js.Undefined(), ctx.Err()
	}
}
