package e2e

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
)

// leakWatch collects what must never appear in anything the server says:
// the app secret and every signature it expected for a refused attempt.
type leakWatch struct {
	mu       sync.Mutex
	needles  map[string]string // value → what it is
	haystack [][]byte          // HTTP answers (WebSocket bytes are read from the peers)
}

func (w *leakWatch) secret(what, v string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.needles == nil {
		w.needles = map[string]string{}
	}
	w.needles[v] = what
}

func (w *leakWatch) answer(b []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.haystack = append(w.haystack, b)
}

// check fails t when any needle appears in data.
func (w *leakWatch) check(t *testing.T, where string, data []byte) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for v, what := range w.needles {
		if i := bytes.Index(data, []byte(v)); i >= 0 {
			lo, hi := max(0, i-120), min(len(data), i+len(v)+40)
			t.Errorf("%s contains %s: …%s…", where, what, data[lo:hi])
		}
	}
}

// TestAuthz: no private or presence subscription, no signin and no API
// call without a valid signature; nothing the server sends or logs contains
// the secret or an expected signature; client events carry the sender's
// real user_id.
//
// Constant time: protocol.VerifyAuth (channel auth and signin) and
// protocol.VerifyRequest (HTTP API) compare with hmac.Equal; the
// "signature checks compare with hmac.Equal" subtest keeps it so.
func TestAuthz(t *testing.T) {
	s := startPushd(t, "log_level: debug\n")
	const key, secret = "app-key", "app-secret"
	var watch leakWatch
	watch.secret("the app secret", secret)
	var peers []*wsPeer
	open := func(t *testing.T) (*wsPeer, string) {
		t.Helper()
		p := dialPeer(t, nil, s.WSAddr, "/app/"+key+"?protocol=7")
		peers = append(peers, p)
		return p, p.established()
	}

	t.Run("private and presence subscriptions", func(t *testing.T) {
		const priv, pres = "private-authz", "presence-authz"
		cd := `{"user_id":"u1","user_info":{"name":"U"}}`
		attacker, sid := open(t)
		// A legitimate subscriber of both channels, to prove below that
		// the attacker got no event.
		legit, lsid := open(t)
		legit.subscribePrivate(lsid, priv)
		legitCD := `{"user_id":"legit"}`
		legit.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{
			"channel": pres, "channel_data": legitCD, "auth": protocol.ChannelAuth(key, secret, lsid, pres, legitCD)}})
		legit.expect("pusher_internal:subscription_succeeded")

		type attempt struct {
			name     string
			channel  string
			auth     *string // nil: no auth field
			cd       string  // channel_data sent (presence)
			authType bool    // false: auth is not a string (a decode error is a refusal too)
		}
		str := func(s string) *string { return &s }
		sigOf := func(socket, ch, data string) string {
			msg := socket + ":" + ch
			if data != "" {
				msg += ":" + data
			}
			return protocol.Sign(secret, msg)
		}
		var cases []attempt
		for _, ch := range []string{priv, pres, "private-encrypted-authz"} {
			data := ""
			if ch == pres {
				data = cd
			}
			good := sigOf(sid, ch, data)
			add := func(name string, auth *string) {
				cases = append(cases, attempt{name: ch + ": " + name, channel: ch, auth: auth, cd: data})
			}
			add("missing auth", nil)
			add("empty auth", str(""))
			add("only a colon", str(":"))
			add("signature without key", str(good))
			add("empty key", str(":"+good))
			add("wrong key prefix", str("noid-key:"+good))
			add("key of another app, its own secret", str(protocol.ChannelAuth("noid-key", "noid-secret", sid, ch, data)))
			add("wrong secret", str(protocol.ChannelAuth(key, "not-the-secret", sid, ch, data)))
			add("signed for another socket_id", str(protocol.ChannelAuth(key, secret, "1.2", ch, data)))
			add("signed for another channel", str(protocol.ChannelAuth(key, secret, sid, ch+"-other", data)))
			add("upper-case hex", str(key+":"+strings.ToUpper(good)))
			add("truncated by one", str((key + ":" + good)[:len(key)+len(good)]))
			add("half a signature", str(key+":"+good[:32]))
			add("one extra character", str(key+":"+good+"0"))
			add("leading space", str(" "+key+":"+good))
			add("trailing space", str(key+":"+good+" "))
			add("trailing newline", str(key+":"+good+"\n"))
			add("space after the colon", str(key+": "+good))
			add("doubled", str(key+":"+good+key+":"+good))
			add("NUL appended", str(key+":"+good+"\x00"))
			if ch == pres {
				add("signed for other channel_data", str(protocol.ChannelAuth(key, secret, sid, ch, `{"user_id":"admin"}`)))
				add("signed for re-spaced channel_data", str(protocol.ChannelAuth(key, secret, sid, ch, `{"user_id": "u1","user_info":{"name":"U"}}`)))
				add("signed without channel_data", str(protocol.ChannelAuth(key, secret, sid, ch, "")))
			} else {
				add("signed with channel_data", str(protocol.ChannelAuth(key, secret, sid, ch, cd)))
			}
		}
		for _, tc := range cases {
			data := map[string]any{"channel": tc.channel}
			if tc.auth != nil {
				data["auth"] = *tc.auth
			}
			if tc.cd != "" {
				data["channel_data"] = tc.cd
			}
			// What the server computes and must never reveal.
			watch.secret("the expected signature ("+tc.name+")", sigOf(sid, tc.channel, tc.cd))
			attacker.sendJSON(map[string]any{"event": "pusher:subscribe", "data": data})
			f := attacker.next(5 * time.Second)
			var d struct {
				Type   string `json:"type"`
				Status int    `json:"status"`
			}
			_ = protocol.DecodeData(f.Data, &d) // data is a JSON string holding the object
			if f.Event != "pusher:subscription_error" || f.Channel != tc.channel || d.Type != "AuthError" || d.Status != 401 {
				t.Errorf("%s: got %s, want subscription_error AuthError 401", tc.name, f.raw)
			}
		}
		// Non-string auth values are refused as well.
		for _, bad := range []string{`5`, `{"a":1}`, `["app-key:x"]`, `null`, `true`} {
			attacker.mustSend(textFrame(`{"event":"pusher:subscribe","data":{"channel":"` + priv + `","auth":` + bad + `}}`))
			if f := attacker.next(5 * time.Second); f.Event != "pusher:subscription_error" && f.Event != "pusher:error" {
				t.Errorf("auth %s: got %s, want a refusal", bad, f.raw)
			}
		}
		// The attacker is on none of the channels: the legitimate subscriber
		// gets an event of each, the attacker gets only its pong.
		for _, ch := range []string{priv, pres} {
			trigger(t, s, key, secret, "/apps/1/events", `{"name":"secret-news","channel":"`+ch+`","data":"x"}`)
			if f := legit.expect("secret-news"); f.Channel != ch {
				t.Fatalf("legit subscriber: got %s", f.raw)
			}
		}
		attacker.mustSend(textFrame(`{"event":"pusher:ping","data":{}}`))
		if f := attacker.next(5 * time.Second); f.Event != "pusher:pong" {
			t.Fatalf("attacker received %s, want only its pong", f.raw)
		}
		// The member list has only the legitimate user.
		status, body := apiCall(t, s, key, secret, http.MethodGet, "/apps/1/channels/"+pres+"/users", nil, "")
		if status != http.StatusOK || strings.Contains(body, `"u1"`) || !strings.Contains(body, `"legit"`) {
			t.Fatalf("presence users: %d %s, want only legit", status, body)
		}
		// A valid signature still works on the same socket.
		attacker.subscribePrivate(sid, priv)
	})

	t.Run("signin", func(t *testing.T) {
		p, sid := open(t)
		ud := `{"id":"u1"}`
		good := protocol.Sign(secret, sid+"::user::"+ud)
		cases := []struct {
			name string
			auth *string
			ud   string
		}{
			{"missing auth", nil, ud},
			{"empty auth", ptr(""), ud},
			{"wrong secret", ptr(protocol.UserAuth(key, "not-the-secret", sid, ud)), ud},
			{"signed for another socket_id", ptr(protocol.UserAuth(key, secret, "1.2", ud)), ud},
			{"signed for other user_data", ptr(protocol.UserAuth(key, secret, sid, `{"id":"u1"}`)), `{"id":"admin"}`},
			{"wrong key prefix", ptr("noid-key:" + good), ud},
			{"signature without key", ptr(good), ud},
			{"upper-case hex", ptr(key + ":" + strings.ToUpper(good)), ud},
			{"truncated", ptr(key + ":" + good[:63]), ud},
			{"trailing space", ptr(key + ":" + good + " "), ud},
			{"leading space", ptr(" " + key + ":" + good), ud},
			{"channel auth instead of user auth", ptr(protocol.ChannelAuth(key, secret, sid, "private-x", "")), ud},
			// Correctly signed, but sendToUser could never reach these ids
			// (the channel #server-to-user-{id} is not a valid name).
			{"id with a colon", ptr(protocol.UserAuth(key, secret, sid, `{"id":"a:b"}`)), `{"id":"a:b"}`},
			{"id with a space", ptr(protocol.UserAuth(key, secret, sid, `{"id":"a b"}`)), `{"id":"a b"}`},
			{"id with a '#'", ptr(protocol.UserAuth(key, secret, sid, `{"id":"a#b"}`)), `{"id":"a#b"}`},
			{"id over 128 bytes", ptr(protocol.UserAuth(key, secret, sid, `{"id":"`+strings.Repeat("u", 129)+`"}`)), `{"id":"` + strings.Repeat("u", 129) + `"}`},
		}
		for _, tc := range cases {
			data := map[string]any{"user_data": tc.ud}
			if tc.auth != nil {
				data["auth"] = *tc.auth
			}
			watch.secret("the expected signin signature ("+tc.name+")", protocol.Sign(secret, sid+"::user::"+tc.ud))
			p.sendJSON(map[string]any{"event": "pusher:signin", "data": data})
			f := p.next(5 * time.Second)
			if f.Event != "pusher:error" || errorCode(t, f) != protocol.CodeUnauthorized {
				t.Errorf("signin %s: got %s, want pusher:error 4009", tc.name, f.raw)
			}
		}
		// Not signed in: the user channels stay closed.
		for _, u := range []string{"u1", "admin"} {
			p.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": "#server-to-user-" + u}})
			if f := p.next(5 * time.Second); f.Event != "pusher:subscription_error" || !strings.Contains(string(f.Data), "AuthError") {
				t.Fatalf("#server-to-user-%s after failed signins: %s, want AuthError", u, f.raw)
			}
		}
		// The right signature signs in.
		p.sendJSON(map[string]any{"event": "pusher:signin", "data": map[string]string{"user_data": ud, "auth": key + ":" + good}})
		p.expect("pusher:signin_success")
	})

	t.Run("HTTP API", func(t *testing.T) {
		const path = "/apps/1/events"
		sub := dialRaw(t, s.WSURL(key)+"?protocol=7")
		sub.established()
		sub.send(`{"event":"pusher:subscribe","data":{"channel":"api-authz"}}`)
		sub.expect("pusher_internal:subscription_succeeded")
		body := func(name string) string { return `{"name":"` + name + `","channel":"api-authz","data":"d"}` }
		now := time.Now()
		// send issues a request with the given query and body and returns the status.
		send := func(method, p string, q url.Values, b string) int {
			t.Helper()
			req, err := http.NewRequest(method, s.APIURL()+p+"?"+q.Encode(), strings.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			c := &http.Client{Timeout: 10 * time.Second}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", method, p, err)
			}
			defer resp.Body.Close()
			rb, _ := io.ReadAll(resp.Body)
			var hdr bytes.Buffer
			_ = resp.Header.Write(&hdr)
			watch.answer(append(hdr.Bytes(), rb...))
			// What the server would have expected for this query.
			watch.secret("the expected API signature for "+q.Get("auth_timestamp"),
				protocol.Sign(secret, protocol.StringToSign(method, p, q)))
			return resp.StatusCode
		}
		signed := func(name string, at time.Time) url.Values {
			return protocol.SignRequest(key, secret, http.MethodPost, path, nil, []byte(body(name)), at)
		}
		type apiCase struct {
			name   string
			status int
			do     func() int
		}
		cases := []apiCase{
			{"valid (control)", 200, func() int { return send("POST", path, signed("ok-1", now), body("ok-1")) }},
			{"wrong secret", 401, func() int {
				return send("POST", path, protocol.SignRequest(key, "not-the-secret", "POST", path, nil, []byte(body("bad")), now), body("bad"))
			}},
			{"this signature, another app's key", 401, func() int {
				q := signed("bad", now)
				q.Set("auth_key", "noid-key")
				return send("POST", path, q, body("bad"))
			}},
			{"no signature", 401, func() int {
				q := signed("bad", now)
				q.Del("auth_signature")
				return send("POST", path, q, body("bad"))
			}},
			{"no timestamp", 401, func() int {
				q := signed("bad", now)
				q.Del("auth_timestamp")
				return send("POST", path, q, body("bad"))
			}},
			{"replayed after 601 s", 401, func() int { return send("POST", path, signed("bad", now.Add(-601*time.Second)), body("bad")) }},
			{"captured an hour ago", 401, func() int { return send("POST", path, signed("bad", now.Add(-time.Hour)), body("bad")) }},
			{"timestamp 601 s ahead", 401, func() int { return send("POST", path, signed("bad", now.Add(601*time.Second)), body("bad")) }},
			{"599 s old, inside the window", 200, func() int { return send("POST", path, signed("ok-2", now.Add(-599*time.Second)), body("ok-2")) }},
			{"body changed after signing", 401, func() int { return send("POST", path, signed("ok-x", now), body("bad")) }},
			{"body changed, body_md5 updated", 401, func() int {
				q := signed("ok-x", now)
				q.Set("body_md5", protocol.BodyMD5([]byte(body("bad"))))
				return send("POST", path, q, body("bad"))
			}},
			{"body_md5 removed", 401, func() int {
				q := signed("bad", now)
				q.Del("body_md5")
				return send("POST", path, q, body("bad"))
			}},
			{"parameter added after signing", 401, func() int {
				q := signed("bad", now)
				q.Set("info", "subscription_count")
				return send("POST", path, q, body("bad"))
			}},
			{"signed for another path", 401, func() int {
				q := protocol.SignRequest(key, secret, "POST", "/apps/1/batch_events", nil, []byte(body("bad")), now)
				return send("POST", path, q, body("bad"))
			}},
			{"signed for another method", 401, func() int {
				q := protocol.SignRequest(key, secret, "GET", path, nil, []byte(body("bad")), now)
				return send("POST", path, q, body("bad"))
			}},
			{"truncated signature", 401, func() int {
				q := signed("bad", now)
				q.Set("auth_signature", q.Get("auth_signature")[:63])
				return send("POST", path, q, body("bad"))
			}},
			{"signature with a space", 401, func() int {
				q := signed("bad", now)
				q.Set("auth_signature", " "+q.Get("auth_signature"))
				return send("POST", path, q, body("bad"))
			}},
			{"auth_version 2.0", 401, func() int {
				q := signed("bad", now)
				q.Set("auth_version", "2.0")
				return send("POST", path, q, body("bad"))
			}},
			{"GET signed with the wrong secret", 401, func() int {
				q := protocol.SignRequest(key, "not-the-secret", "GET", "/apps/1/channels", nil, nil, now)
				return send("GET", "/apps/1/channels", q, "")
			}},
			{"GET of channel users, signed for another channel", 401, func() int {
				q := protocol.SignRequest(key, secret, "GET", "/apps/1/channels/presence-a/users", nil, nil, now)
				return send("GET", "/apps/1/channels/presence-b/users", q, "")
			}},
			{"terminate_connections signed for another user", 401, func() int {
				q := protocol.SignRequest(key, secret, "POST", "/apps/1/users/u1/terminate_connections", nil, nil, now)
				return send("POST", "/apps/1/users/admin/terminate_connections", q, "")
			}},
		}
		for _, tc := range cases {
			if got := tc.do(); got != tc.status {
				t.Errorf("%s: status %d, want %d", tc.name, got, tc.status)
			}
		}
		// Only the two valid requests delivered events.
		trigger(t, s, key, secret, path, body("ok-last"))
		for _, want := range []string{"ok-1", "ok-2", "ok-last"} {
			if f := sub.next(); f.Event != want {
				t.Fatalf("subscriber got %s, want %s (a refused request must not deliver)", f.raw, want)
			}
		}
	})

	t.Run("client events cannot impersonate", func(t *testing.T) {
		const ch = "presence-imp"
		join := func(user string) *wsPeer {
			p, sid := open(t)
			cd := `{"user_id":"` + user + `"}`
			p.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{
				"channel": ch, "channel_data": cd, "auth": protocol.ChannelAuth(key, secret, sid, ch, cd)}})
			p.expect("pusher_internal:subscription_succeeded")
			return p
		}
		alice := join("alice")
		bob := join("bob")
		alice.expect("pusher_internal:member_added")
		for _, ev := range []string{
			`{"event":"client-x","channel":"presence-imp","user_id":"admin","data":{"from":"admin"}}`,
			`{"user_id":"admin","event":"client-x","channel":"presence-imp","data":"s"}`,
			`{"event":"client-x","channel":"presence-imp","data":"s","user_id":"admin","user_id":"root"}`,
		} {
			alice.mustSend(textFrame(ev))
			// bob may see alice join after he did (member keys are
			// written in the background): skip that member_added.
			f := bob.next(5 * time.Second)
			for f.Event == "pusher_internal:member_added" {
				f = bob.next(5 * time.Second)
			}
			if f.Event != "client-x" {
				t.Fatalf("sent %s, bob received %s, want client-x", ev, f.raw)
			}
			if f.UserID != "alice" || bytes.Count(f.raw, []byte(`"user_id"`)) != 1 {
				t.Fatalf("sent %s, bob received %s: want exactly the sender's user_id alice", ev, f.raw)
			}
		}
		// On a private channel no user_id is added, and none is taken from the client.
		a2, a2sid := open(t)
		a2.subscribePrivate(a2sid, "private-imp")
		b2, b2sid := open(t)
		b2.subscribePrivate(b2sid, "private-imp")
		ud := `{"id":"alice"}`
		a2.sendJSON(map[string]any{"event": "pusher:signin", "data": map[string]string{"user_data": ud, "auth": protocol.UserAuth(key, secret, a2sid, ud)}})
		a2.expect("pusher:signin_success")
		a2.mustSend(textFrame(`{"event":"client-y","channel":"private-imp","user_id":"admin","data":"s"}`))
		if f := b2.expect("client-y"); bytes.Contains(f.raw, []byte("admin")) {
			t.Fatalf("private channel: receiver got %s, the client's user_id must not be relayed", f.raw)
		}
	})

	t.Run("signature checks compare with hmac.Equal", func(t *testing.T) {
		for file, fn := range map[string]string{"../gateway/protocol/auth.go": "VerifyAuth", "../gateway/protocol/apisign.go": "VerifyRequest"} {
			if !callsHMACEqual(t, file, fn) {
				t.Errorf("%s: %s does not compare with hmac.Equal", file, fn)
			}
		}
	})

	t.Run("no secret or expected signature in any answer or log", func(t *testing.T) {
		for i, p := range peers {
			watch.check(t, "WebSocket bytes of connection "+strconv.Itoa(i), p.received())
		}
		for i, b := range watch.haystack {
			watch.check(t, "HTTP answer "+strconv.Itoa(i), b)
		}
		// The log, without the start-up banner (judged separately below).
		var logLines []string
		for _, line := range strings.Split(s.log.String(), "\n") {
			if !strings.HasPrefix(line, "  app  ") {
				logLines = append(logLines, line)
			}
		}
		watch.check(t, "pushd's log", []byte(strings.Join(logLines, "\n")))
	})

	t.Run("start-up banner does not print secrets", func(t *testing.T) {
		for _, line := range strings.Split(s.log.String(), "\n") {
			for _, sec := range []string{"app-secret", "noid-secret", "small-secret"} {
				if strings.Contains(line, sec) {
					t.Errorf("pushd's output prints an app secret: %q", line)
				}
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }

// callsHMACEqual reports whether function fn of a Go file calls hmac.Equal.
func callsHMACEqual(t *testing.T, file, fn string) bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	found := false
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != fn {
			continue
		}
		ast.Inspect(fd, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "hmac" && sel.Sel.Name == "Equal" {
					found = true
				}
			}
			return true
		})
	}
	return found
}
