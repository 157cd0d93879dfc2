//go:build js && wasm

// Command pushwasm is the browser face of wasmclient: built with GOOS=js
// GOARCH=wasm into push.wasm, it defines the global Push with push.js's API,
// so that a page switches from push.js by changing its script tags:
//
//	<script src="/push-wasm.js"></script>
//	<script>
//	PushWasm.load('/push.wasm').then(() => {
//	  const push = new Push({url: 'ws://127.0.0.1:3131', app_key: 'KEY', auth: '/auth'})
//	  push.subscribe('news').on('message', data => console.log(data))
//	})
//	</script>
package main

import (
	"syscall/js"
	"time"

	"github.com/pushd/pushd/wasmclient"
)

func main() {
	js.Global().Set("Push", js.FuncOf(func(_ js.Value, args []js.Value) any {
		opts := js.Undefined()
		if len(args) > 0 {
			opts = args[0]
		}
		return newPush(opts)
	}))
	if ready := js.Global().Get("__pushWasmReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {}
}

// emitter is the listener registry of connections, channels and users. It
// lives in JavaScript so that delivering an event (parse the data, build
// the metadata, call each listener, log a throwing one) is one call from Go.
var emitter = js.Global().Get("Function").New(`return {
  on: function (l, name, fn) { if (typeof fn === 'function') (l[name] = l[name] || []).push(fn); },
  off: function (l, name, fn) {
    if (name === undefined) { for (var k in l) delete l[k]; return; }
    if (fn === undefined) { delete l[name]; return; }
    if (l[name]) l[name] = l[name].filter(function (f) { return f !== fn; });
  },
  emit: function (l, name, data, parse, user, seq) {
    var fns = (l[name] || []).concat(l['*'] || []);
    if (!fns.length) return;
    if (parse) {
      if (data === '') data = undefined;
      else try { data = JSON.parse(data); } catch (e) { /* not JSON: the string itself, as push.js */ }
    }
    var meta = {};
    if (user) meta.user_id = user;
    if (seq) meta.seq = seq;
    for (var i = 0; i < fns.length; i++) {
      try { fns[i](data, meta); } catch (e) { console.error('push.wasm listener:', e); }
    }
  }
};`).Invoke()

// listeners is one registry (an object of event name -> callbacks; "*"
// receives every event).
type listeners struct{ l js.Value }

func newListeners() listeners { return listeners{js.Global().Get("Object").Call("create", js.Null())} }

func (l listeners) on(args []js.Value) { emitter.Call("on", l.l, arg(args, 0), arg(args, 1)) }

func (l listeners) off(args []js.Value) { emitter.Call("off", l.l, arg(args, 0), arg(args, 1)) }

// emit calls the listeners of event with a JavaScript value.
func (l listeners) emit(event string, data any) {
	emitter.Call("emit", l.l, event, data, false, "", 0)
}

// deliver calls the listeners of a client event, with its data parsed from
// JSON as push.js does.
func (l listeners) deliver(e wasmclient.Event) {
	emitter.Call("emit", l.l, e.Name, e.Data, true, e.UserID, float64(e.Seq))
}

func call(fn js.Value, args ...any) {
	defer func() {
		if r := recover(); r != nil {
			js.Global().Get("console").Call("error", "push.wasm listener:", jsString(r))
		}
	}()
	fn.Invoke(args...)
}

func jsString(r any) string {
	switch v := r.(type) {
	case js.Error:
		return v.Error()
	case error:
		return v.Error()
	case string:
		return v
	}
	return "panic"
}

// JavaScript values used often, looked up once.
var (
	jsObject = js.Global().Get("Object")
	jsJSON   = js.Global().Get("JSON")
)

func object() js.Value { return jsObject.New() }

func method(o js.Value, name string, fn func(this js.Value, args []js.Value) any) {
	o.Set(name, js.FuncOf(fn))
}

func getter(o js.Value, name string, fn func() any) {
	desc := object()
	desc.Set("get", js.FuncOf(func(js.Value, []js.Value) any { return fn() }))
	desc.Set("enumerable", true)
	jsObject.Call("defineProperty", o, name, desc)
}

func arg(args []js.Value, i int) js.Value {
	if i < len(args) {
		return args[i]
	}
	return js.Undefined()
}

func str(o js.Value, key string) string {
	if o.Type() != js.TypeObject {
		return ""
	}
	v := o.Get(key)
	if v.Type() != js.TypeString {
		return ""
	}
	return v.String()
}

func millis(o js.Value, key string) time.Duration {
	if o.Type() != js.TypeObject || o.Get(key).Type() != js.TypeNumber {
		return 0
	}
	return time.Duration(o.Get(key).Float() * float64(time.Millisecond))
}

// parse turns event data into what push.js hands to listeners: parsed JSON,
// or the string itself when it is not JSON.
func parse(data string) (v js.Value) {
	if data == "" {
		return js.Undefined()
	}
	defer func() {
		if recover() != nil {
			v = js.ValueOf(data)
		}
	}()
	switch c := data[0]; {
	case c == '{' || c == '[' || c == '"' || c == '-' || c >= '0' && c <= '9' || c == 't' || c == 'f' || c == 'n':
		return jsJSON.Call("parse", data)
	}
	return js.ValueOf(data)
}

// newPush builds the object `new Push(options)` returns.
func newPush(opts js.Value) js.Value {
	push := object()
	conn := object()
	connL := newListeners()
	globalL := newListeners()
	channels := map[string]js.Value{}
	auth := wasmclient.FetchAuthorizer{URL: str(opts, "auth"), UserURL: str(opts, "user_auth")}
	if h := opts.Get("auth_headers"); opts.Type() == js.TypeObject && h.Type() == js.TypeObject {
		auth.Headers = map[string]string{}
		keys := js.Global().Get("Object").Call("keys", h)
		for i := 0; i < keys.Length(); i++ {
			k := keys.Index(i).String()
			auth.Headers[k] = h.Get(k).String()
		}
	}
	heartbeat := millis(opts, "heartbeat")
	if heartbeat == 0 {
		heartbeat = 25 * time.Second
	}
	pong := millis(opts, "pingTimeout")
	if pong == 0 {
		pong = 10 * time.Second
	}
	var client *wasmclient.Client
	client = wasmclient.New(wasmclient.Options{
		URL:               str(opts, "url"),
		Key:               str(opts, "app_key"),
		Authorizer:        auth,
		UserAuthenticator: auth,
		ActivityTimeout:   heartbeat,
		PongTimeout:       pong,
		MinBackoff:        millis(opts, "min_backoff"),
		MaxBackoff:        millis(opts, "max_backoff"),
		ClientName:        "pushd-wasm",
		OnStateChange: func(prev, cur wasmclient.State) {
			change := object()
			change.Set("previous", string(prev))
			change.Set("current", string(cur))
			connL.emit("state_change", change)
			connL.emit(string(cur), change)
		},
		OnError: func(err error) {
			e := object()
			e.Set("message", err.Error())
			if pe, ok := err.(*wasmclient.ProtocolError); ok {
				e.Set("code", pe.Code)
			}
			connL.emit("error", e)
		},
	})
	client.Bind("", func(e wasmclient.Event) {
		if e.Channel == "" {
			globalL.deliver(e)
		}
	})

	method(conn, "on", func(_ js.Value, a []js.Value) any { connL.on(a); return conn })
	method(conn, "bind", func(_ js.Value, a []js.Value) any { connL.on(a); return conn })
	method(conn, "off", func(_ js.Value, a []js.Value) any { connL.off(a); return conn })
	method(conn, "unbind", func(_ js.Value, a []js.Value) any { connL.off(a); return conn })
	getter(conn, "state", func() any { return string(client.State()) })
	getter(conn, "socket_id", func() any { return client.SocketID() })
	push.Set("connection", conn)
	push.Set("config", opts)

	subscribe := func(name string) js.Value {
		if ch, ok := channels[name]; ok {
			return ch
		}
		ch := newChannel(client, client.Subscribe(name))
		channels[name] = ch
		return ch
	}
	method(push, "subscribe", func(_ js.Value, a []js.Value) any { return subscribe(arg(a, 0).String()) })
	method(push, "unsubscribe", func(_ js.Value, a []js.Value) any {
		name := arg(a, 0).String()
		delete(channels, name)
		client.Unsubscribe(name)
		return nil
	})
	method(push, "unsubscribeAll", func(js.Value, []js.Value) any {
		clear(channels)
		client.UnsubscribeAll()
		return nil
	})
	method(push, "channel", func(_ js.Value, a []js.Value) any {
		if ch, ok := channels[arg(a, 0).String()]; ok {
			return ch
		}
		return js.Undefined()
	})
	method(push, "allChannels", func(js.Value, []js.Value) any {
		out := js.Global().Get("Array").New()
		for _, ch := range channels {
			out.Call("push", ch)
		}
		return out
	})
	method(push, "on", func(_ js.Value, a []js.Value) any { globalL.on(a); return push })
	method(push, "off", func(_ js.Value, a []js.Value) any { globalL.off(a); return push })
	method(push, "connect", func(js.Value, []js.Value) any { client.Connect(); return nil })
	method(push, "disconnect", func(js.Value, []js.Value) any { client.Disconnect(); return nil })
	method(push, "signin", func(js.Value, []js.Value) any {
		if err := client.Signin(); err != nil {
			js.Global().Get("console").Call("error", "push.wasm signin:", err.Error())
		}
		return nil
	})
	user := object()
	userL := newListeners()
	client.BindUser("", func(e wasmclient.Event) { userL.deliver(e) })
	method(user, "on", func(_ js.Value, a []js.Value) any { userL.on(a); return user })
	method(user, "bind", func(_ js.Value, a []js.Value) any { userL.on(a); return user })
	method(user, "off", func(_ js.Value, a []js.Value) any { userL.off(a); return user })
	push.Set("user", user)

	// Connect after the constructor's caller has run, so that listeners it
	// adds right after `new Push` see the connecting state too.
	var start js.Func
	start = js.FuncOf(func(js.Value, []js.Value) any {
		start.Release()
		client.Connect()
		return nil
	})
	js.Global().Call("setTimeout", start, 0)
	return push
}

// newChannel builds the channel object subscribe returns.
func newChannel(client *wasmclient.Client, ch *wasmclient.Channel) js.Value {
	o := object()
	l := newListeners()
	o.Set("name", ch.Name())
	members := newMembers(ch)
	ch.Bind("", func(e wasmclient.Event) {
		switch e.Name {
		case "pusher:member_added", "pusher:member_removed":
			m, _ := ch.Member(e.UserID)
			m.ID = e.UserID
			l.emit(e.Name, memberValue(m))
		case "pusher:subscription_succeeded":
			l.emit(e.Name, members)
		default:
			l.deliver(e)
		}
	})
	method(o, "on", func(_ js.Value, a []js.Value) any { l.on(a); return o })
	method(o, "bind", func(_ js.Value, a []js.Value) any { l.on(a); return o })
	method(o, "off", func(_ js.Value, a []js.Value) any { l.off(a); return o })
	method(o, "unbind", func(_ js.Value, a []js.Value) any { l.off(a); return o })
	method(o, "emit", func(_ js.Value, a []js.Value) any { l.emit(arg(a, 0).String(), arg(a, 1)); return o })
	method(o, "trigger", func(_ js.Value, a []js.Value) any {
		data := "{}"
		if d := arg(a, 1); !d.IsUndefined() {
			data = js.Global().Get("JSON").Call("stringify", d).String()
		}
		if err := ch.Trigger(arg(a, 0).String(), data); err != nil {
			js.Global().Get("console").Call("error", "push.wasm trigger:", err.Error())
			return false
		}
		return true
	})
	getter(o, "subscribed", func() any { return ch.Subscribed() })
	o.Set("members", members)
	return o
}

func memberValue(m wasmclient.Member) js.Value {
	v := object()
	v.Set("id", m.ID)
	v.Set("info", parse(m.Info))
	return v
}

// newMembers builds channel.members: count, me, each(fn), get(id).
func newMembers(ch *wasmclient.Channel) js.Value {
	o := object()
	getter(o, "count", func() any { return ch.MemberCount() })
	getter(o, "me", func() any {
		if m, ok := ch.Me(); ok {
			return memberValue(m)
		}
		return js.Null()
	})
	method(o, "each", func(_ js.Value, a []js.Value) any {
		for _, m := range ch.Members() {
			call(arg(a, 0), memberValue(m))
		}
		return nil
	})
	method(o, "get", func(_ js.Value, a []js.Value) any {
		if m, ok := ch.Member(arg(a, 0).String()); ok {
			return memberValue(m)
		}
		return js.Null()
	})
	return o
}
