//go:build js && wasm

package wasmclient

import (
	"context"
	"errors"
	"strings"
	"syscall/js"
)

func defaultTransport() Transport { return BrowserTransport{} }

// BrowserTransport is the Transport of GOOS=js: the global WebSocket of a
// browser (or of Node with a WebSocket global).
type BrowserTransport struct{}

// Dial opens a WebSocket and waits for it to open or fail.
func (BrowserTransport) Dial(ctx context.Context, url string, onMessage func([]byte), onClose func(int, string)) (Conn, error) {
	ctor := js.Global().Get("WebSocket")
	if ctor.IsUndefined() {
		return nil, errors.New("no WebSocket in this JavaScript environment")
	}
	ws := ctor.New(url)
	c := &jsConn{ws: ws}
	// drain hands the queued frames to onMessage. They come as one string,
	// NUL-separated: a NUL byte never occurs unescaped in JSON text.
	drain := func() {
		if c.inbox.IsUndefined() {
			return
		}
		batch := c.inbox.Call("take").String()
		for len(batch) > 0 {
			i := strings.IndexByte(batch, 0)
			if i < 0 {
				i = len(batch)
			}
			onMessage([]byte(batch[:i]))
			batch = batch[min(i+1, len(batch)):]
		}
	}
	opened := make(chan bool, 1)
	c.funcs = []js.Func{
		js.FuncOf(func(js.Value, []js.Value) any {
			select {
			case opened <- true:
			default:
			}
			return nil
		}),
		js.FuncOf(func(js.Value, []js.Value) any {
			drain()
			return nil
		}),
		js.FuncOf(func(_ js.Value, args []js.Value) any {
			select {
			case opened <- false:
			default:
			}
			drain() // frames that came before the close go first
			c.release()
			onClose(args[0].Get("code").Int(), args[0].Get("reason").String())
			return nil
		}),
	}
	ws.Set("onopen", c.funcs[0])
	c.inbox = newInbox.Invoke(ws, c.funcs[1])
	ws.Set("onclose", c.funcs[2])
	// The close event follows any error; a handler must exist all the same
	// (Node's ws package throws on an error event nobody listens to).
	ws.Set("onerror", js.Global().Get("Function").New())
	select {
	case ok := <-opened:
		if !ok {
			return nil, errors.New("websocket " + url + " closed before it opened")
		}
		return c, nil
	case <-ctx.Done():
		ws.Call("close")
		return nil, ctx.Err()
	}
}

// newInbox queues a socket's frames in JavaScript and wakes Go once per
// batch, on a timer task: frames that are already waiting (a burst, a busy
// page) are handed over together, so entering Go is paid once per batch
// rather than once per frame.
var newInbox = js.Global().Get("Function").New("ws", "wake", `
  var queue = [], scheduled = false, dead = false;
  ws.onmessage = function (e) {
    if (typeof e.data !== 'string' || dead) return;
    queue.push(e.data);
    if (!scheduled) {
      scheduled = true;
      setTimeout(function () { scheduled = false; if (queue.length && !dead) wake(); }, 0);
    }
  };
  return {
    take: function () { var s = queue.join('\0'); queue = []; return s; },
    stop: function () { dead = true; queue = []; }
  };`)

type jsConn struct {
	ws    js.Value
	inbox js.Value
	funcs []js.Func
	done  bool
}

func (c *jsConn) release() {
	if c.done {
		return
	}
	c.done = true
	c.inbox.Call("stop")
	for _, f := range []string{"onopen", "onmessage", "onclose"} {
		c.ws.Set(f, js.Null())
	}
	for _, f := range c.funcs {
		f.Release()
	}
}

func (c *jsConn) Send(frame []byte) error {
	if c.done || c.ws.Get("readyState").Int() != 1 {
		return ErrNotConnected
	}
	c.ws.Call("send", string(frame))
	return nil
}

// Close closes the socket; browsers accept only 1000 and 3000-4999.
func (c *jsConn) Close(code int, reason string) error {
	if code != 1000 && (code < 3000 || code > 4999) {
		code = 1000
	}
	c.ws.Call("close", code, reason)
	c.release()
	return nil
}
