package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/pushd/pushd/gateway/protocol"
)

// Apps managed at run time (issue 17): the app store on JetStream KV, the
// admin API, secret rotation, on gateways that share one nats-server.

const adminToken = "e2e-admin-token-0123456789"

// storeGateways starts a nats-server and n gateways on it, each with the
// cluster's app (app-key) and the admin token.
func storeGateways(t *testing.T, n int) ([]*server, *natsCluster) {
	t.Helper()
	nc := startNATSCluster(t, 1)
	var gws []*server
	for range n {
		gws = append(gws, startPushdWith(t, clusterApps+"admin_token: "+adminToken+"\n", "--nats-url", nc.URLs()))
	}
	return gws, nc
}

// adminCall makes a request to s's admin API and returns the status and the
// JSON answer.
func adminCall(t *testing.T, s *server, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.APIURL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, m
}

// signedBody is a webhook request as it arrived: its body and signature.
type signedBody struct{ body, signature string }

// signatureRecorder is a webhook endpoint that records each request's body
// and X-Pusher-Signature and answers 200, so the test can tell which secret
// signed it.
type signatureRecorder struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []signedBody
}

func newSignatureRecorder(t *testing.T) *signatureRecorder {
	r := &signatureRecorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, signedBody{string(b), req.Header.Get("X-Pusher-Signature")})
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// with returns the first request whose body contains s.
func (r *signatureRecorder) with(s string) (signedBody, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.got {
		if strings.Contains(b.body, s) {
			return b, true
		}
	}
	return signedBody{}, false
}

func hmacHex(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

// TestAppStoreAcrossGateways: an app created through gateway A's admin API
// is served by gateway B within 1 s (pusher-js connects to B with the new
// key and receives an event the pusher SDK triggered through A); a rotation
// keeps the old secret working for its grace period, then its API
// signature gets 401 and its channel auth is refused, while webhooks carry
// the new secret's signature; a delete closes the app's sockets with 4001
// on both gateways, pusher-js's too, and the other app's sockets stay.
func TestAppStoreAcrossGateways(t *testing.T) {
	gws, _ := storeGateways(t, 2)
	a, b := gws[0], gws[1]
	hooks := newSignatureRecorder(t)
	_, bPort, _ := net.SplitHostPort(b.APIAddr)
	env := append(a.nodeEnv(), "PUSHD_WS_PORT="+strings.Split(b.WSAddr, ":")[1], "PUSHD_API_B_PORT="+bPort)
	js := startNodeScript(t, 2*time.Minute, env, "appstore_live.mjs")
	js.expect("READY", 30*time.Second)

	// Create through A.
	const key, id, secret1, secret2 = "live-key", "77", "first-secret-0123456789", "second-secret-0123456789"
	status, m := adminCall(t, a, http.MethodPost, "/admin/apps", `{"key":"`+key+`","id":"`+id+`","secret":"`+secret1+`",
		"webhook_url":"`+hooks.srv.URL+`/hook","webhook_events":["channel_occupied"]}`)
	if status != http.StatusCreated || m["secret"] != secret1 {
		t.Fatalf("create through A: %d %v", status, m)
	}
	created, _ := json.Marshal(map[string]string{"id": id, "key": key, "secret": secret1})
	js.send("GO " + string(created))
	live := js.expect("LIVE", 30*time.Second)
	t.Logf("pusher-js on gateway B with the new key: %s after the create answered", live)
	// The other gateway lists it too.
	if status, m := adminCall(t, b, http.MethodGet, "/admin/apps/"+key, ""); status != http.StatusOK || m["source"] != "api" {
		t.Fatalf("the new app on B's admin API: %d %v", status, m)
	}

	// Rotate through B, with a grace period.
	status, m = adminCall(t, b, http.MethodPost, "/admin/apps/"+key+"/rotate", `{"secret":"`+secret2+`","grace":"3s"}`)
	if status != http.StatusOK || m["secret"] != secret2 {
		t.Fatalf("rotate through B: %d %v", status, m)
	}
	expires, err := time.Parse(time.RFC3339Nano, m["app"].(map[string]any)["previous_secret_expires"].(string))
	if err != nil {
		t.Fatalf("previous_secret_expires: %v", err)
	}
	js.send(`ROTATED {"secret":"` + secret2 + `"}`)
	t.Logf("during the grace period: %s", js.expect("GRACE", 30*time.Second))
	if time.Now().After(expires) {
		t.Fatalf("the grace period ended (%s) before its checks were done: the test machine is too slow for a 3 s grace", expires)
	}
	// After it: the old secret's API signature gets 401 on both gateways,
	// its channel auth is refused, the new one works.
	body := `{"name":"e","channel":"after-grace","data":"x"}`
	for _, s := range gws {
		waitFor(t, "the old secret refused on "+s.APIAddr, func() bool {
			st, _ := apiCall(t, s, key, secret1, http.MethodPost, "/apps/"+id+"/events", nil, body)
			return st == http.StatusUnauthorized
		})
		if time.Now().Before(expires) {
			t.Fatalf("the old secret was refused before its expiry %s", expires)
		}
		if st, resp := apiCall(t, s, key, secret2, http.MethodPost, "/apps/"+id+"/events", nil, body); st != http.StatusOK {
			t.Fatalf("the new secret on %s: %d %s", s.APIAddr, st, resp)
		}
	}
	c, sid := connect(t, a, key)
	c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": "private-late",
		"auth": protocol.ChannelAuth(key, secret1, sid, "private-late", "")}})
	if f := c.expect("pusher:subscription_error"); !strings.Contains(string(f.Data), "AuthError") {
		t.Fatalf("channel auth with the old secret after the grace period: %s", f.raw)
	}
	c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": "private-late",
		"auth": protocol.ChannelAuth(key, secret2, sid, "private-late", "")}})
	c.expect("pusher_internal:subscription_succeeded")
	// Webhooks carry the new secret's signature.
	subscribePublic(t, c, "hooked-after-rotation")
	var hook signedBody
	waitFor(t, "the channel_occupied webhook of hooked-after-rotation", func() bool {
		var ok bool
		hook, ok = hooks.with(`"hooked-after-rotation"`)
		return ok
	})
	if hook.signature != hmacHex(secret2, hook.body) || hook.signature == hmacHex(secret1, hook.body) {
		t.Fatalf("webhook after the rotation signed %s; the new secret's signature is %s", hook.signature, hmacHex(secret2, hook.body))
	}

	// Delete through A: the app's sockets on both gateways are closed with
	// 4001, the other app's stay; its API answers 404.
	doomed := []*rawClient{c}
	for _, s := range gws {
		for range 2 {
			d, _ := connect(t, s, key)
			subscribePublic(t, d, "doomed")
			doomed = append(doomed, d)
		}
	}
	var others []*rawClient
	for _, s := range gws {
		for range 3 {
			o, _ := connect(t, s, "app-key")
			subscribePublic(t, o, "survivor")
			others = append(others, o)
		}
	}
	js.send("WATCH")
	js.expect("WATCHING", 10*time.Second)
	if status, m := adminCall(t, a, http.MethodDelete, "/admin/apps/"+key, ""); status != http.StatusOK {
		t.Fatalf("delete through A: %d %v", status, m)
	}
	for i, d := range doomed {
		if f := d.expect("pusher:error"); errorCode(t, f) != protocol.CodeAppNotFound {
			t.Fatalf("socket %d of the deleted app: %s, want pusher:error 4001", i, f.raw)
		}
		d.expectClose(protocol.CodeAppNotFound, 5*time.Second)
	}
	t.Logf("pusher-js: %s", js.expect("GONE", 10*time.Second))
	js.wait(20 * time.Second)
	trigger(t, b, "app-key", "app-secret", "/apps/1/events", `{"name":"still-here","channel":"survivor","data":"1"}`)
	for i, o := range others {
		if f := o.expect("still-here"); f.Channel != "survivor" {
			t.Fatalf("other app's socket %d: %s", i, f.raw)
		}
	}
	for _, s := range gws {
		if n := channelInfo(t, s, "app-key", "app-secret", "1", "survivor", "subscription_count")["subscription_count"]; n != float64(len(others)) {
			t.Fatalf("subscribers of the other app's channel on %s: %v, want %d", s.APIAddr, n, len(others))
		}
		if st, resp := apiCall(t, s, key, secret2, http.MethodPost, "/apps/"+id+"/events", nil, body); st != http.StatusNotFound {
			t.Fatalf("the deleted app's API on %s: %d %s, want 404", s.APIAddr, st, resp)
		}
		r := dialRaw(t, s.WSURL(key)+"?protocol=7")
		if f := r.expect("pusher:error"); errorCode(t, f) != protocol.CodeAppNotFound {
			t.Fatalf("connect to the deleted app on %s: %s, want 4001", s.WSAddr, f.raw)
		}
	}
}

// TestAppDisabledAtRunTime: disabling an app through the admin API closes
// its sockets on every gateway with 4003 and its API answers 403; enabling
// it again lets clients back in. Other apps are untouched. A limit changed
// on one gateway applies on the other, and a new history_max_age reaches
// the app's stream.
func TestAppDisabledAtRunTime(t *testing.T) {
	gws, nc := storeGateways(t, 2)
	const key, secret = "switch-key", "switch-secret-0123456789"
	if status, m := adminCall(t, gws[0], http.MethodPost, "/admin/apps", `{"key":"`+key+`","id":"55","secret":"`+secret+`"}`); status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, m)
	}
	var clients, others []*rawClient
	for _, s := range gws {
		waitFor(t, "the new app on "+s.WSAddr, func() bool {
			r := dialRaw(t, s.WSURL(key)+"?protocol=7")
			f := r.next()
			if f.Event == "pusher:connection_established" {
				clients = append(clients, r)
				return true
			}
			return false
		})
		o, _ := connect(t, s, "app-key")
		others = append(others, o)
	}
	if status, m := adminCall(t, gws[1], http.MethodPatch, "/admin/apps/"+key, `{"disabled":true}`); status != http.StatusOK {
		t.Fatalf("disable: %d %v", status, m)
	}
	for i, c := range clients {
		if f := c.expect("pusher:error"); errorCode(t, f) != protocol.CodeAppDisabled {
			t.Fatalf("socket %d of the disabled app: %s, want 4003", i, f.raw)
		}
		c.expectClose(protocol.CodeAppDisabled, 5*time.Second)
	}
	body := `{"name":"e","channel":"c","data":"x"}`
	for _, s := range gws {
		if st, resp := apiCall(t, s, key, secret, http.MethodPost, "/apps/55/events", nil, body); st != http.StatusForbidden {
			t.Fatalf("the disabled app's API on %s: %d %s, want 403", s.APIAddr, st, resp)
		}
	}
	for _, o := range others {
		o.send(`{"event":"pusher:ping","data":{}}`)
		o.expect("pusher:pong")
	}
	if status, m := adminCall(t, gws[0], http.MethodPatch, "/admin/apps/"+key, `{"disabled":false}`); status != http.StatusOK {
		t.Fatalf("enable: %d %v", status, m)
	}
	for _, s := range gws {
		waitFor(t, "the enabled app on "+s.WSAddr, func() bool {
			f := dialRaw(t, s.WSURL(key)+"?protocol=7").next()
			return f.Event == "pusher:connection_established"
		})
		if st, resp := apiCall(t, s, key, secret, http.MethodPost, "/apps/55/events", nil, body); st != http.StatusOK {
			t.Fatalf("the enabled app's API on %s: %d %s", s.APIAddr, st, resp)
		}
	}

	// Settings: a smaller max_event_bytes through gateway 0 is enforced by
	// gateway 1's API; the stream follows history_max_age.
	if status, m := adminCall(t, gws[0], http.MethodPatch, "/admin/apps/"+key, `{"max_event_bytes":20,"history_max_age":"2h"}`); status != http.StatusOK {
		t.Fatalf("patch limits: %d %v", status, m)
	}
	waitFor(t, "max_event_bytes 20 on the other gateway", func() bool {
		st, _ := apiCall(t, gws[1], key, secret, http.MethodPost, "/apps/55/events", nil, `{"name":"e","channel":"c","data":"`+strings.Repeat("x", 40)+`"}`)
		return st == http.StatusRequestEntityTooLarge
	})
	conn, err := nats.Connect(nc.URLs())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	js, _ := jetstream.New(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "PUSHD_"+key)
	if err != nil {
		t.Fatalf("the app's stream: %v", err)
	}
	if age := st.CachedInfo().Config.MaxAge; age != 2*time.Hour {
		t.Fatalf("the app's stream keeps events %s, want the new history_max_age 2h", age)
	}
}
