package e2e

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/wasmclient"
)

func TestGoClientPublicBindUnbind(t *testing.T) {
	s := startPushd(t, "")
	c := connectedGoClient(t, s, "app-key", "app-secret", nil)
	if !protocol.ValidSocketID(c.SocketID()) {
		t.Fatalf("socket id %q, want N.N", c.SocketID())
	}
	ch := c.subscribe("news")
	msgs := record(ch.Bind, "message")
	all := record(c.Bind, "message")
	any := record(ch.Bind, "")
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"message","channel":"news","data":"{\"text\":\"hi\"}"}`)
	e := nextEvent(t, msgs, "message")
	if e.Name != "message" || e.Channel != "news" || e.Data != `{"text":"hi"}` || e.Seq == 0 {
		t.Fatalf("event: got %+v, want message on news with data {\"text\":\"hi\"} and a seq", e)
	}
	if g := nextEvent(t, all, "global message"); g != e {
		t.Fatalf("global binding: got %+v, want %+v", g, e)
	}
	if g := nextEvent(t, any, "channel bind-all"); g != e {
		t.Fatalf("channel bind-all: got %+v, want %+v", g, e)
	}

	// Unbind one handler; the others still receive.
	ch.Unbind("message")
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"message","channel":"news","data":"2"}`)
	if e := nextEvent(t, all, "global message after unbind"); e.Data != "2" {
		t.Fatalf("global after unbind: got %+v, want data 2", e)
	}
	noEvent(t, msgs, 200*time.Millisecond)

	// After Unsubscribe nothing arrives, and Subscribe gives a new channel.
	c.Unsubscribe("news")
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"message","channel":"news","data":"3"}`)
	noEvent(t, all, 300*time.Millisecond)
	if c.Channel("news") != nil {
		t.Fatalf("Channel(news) after Unsubscribe: got a channel, want nil")
	}
	if again := c.Subscribe("other"); c.Subscribe("other") != again {
		t.Fatalf("Subscribe twice: got two channels, want the same")
	}

	// Disconnect stops for good: no reconnect.
	c.Disconnect()
	c.waitState(wasmclient.StateDisconnected, 5*time.Second)
	dials := c.tr.dialCount()
	time.Sleep(300 * time.Millisecond) // nothing to wait for: checking that nothing happens
	if c.tr.dialCount() != dials || c.State() != wasmclient.StateDisconnected {
		t.Fatalf("after Disconnect: %d dials (was %d), state %s; want no reconnect", c.tr.dialCount(), dials, c.State())
	}
}

func TestGoClientPrivateAuth(t *testing.T) {
	s := startPushd(t, "")
	// A real auth endpoint, as an app's backend would serve it.
	var mu sync.Mutex
	var forms []string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		forms = append(forms, r.Header.Get("Content-Type")+" "+r.PostForm.Encode())
		mu.Unlock()
		ch, sid := r.PostForm.Get("channel_name"), r.PostForm.Get("socket_id")
		if strings.Contains(ch, "forbidden") {
			http.Error(w, "Forbidden", http.StatusForbidden)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"auth": protocol.ChannelAuth("app-key", "app-secret", sid, ch, "")})
	}))
	t.Cleanup(backend.Close)
	c := connectedGoClient(t, s, "app-key", "app-secret", func(o *wasmclient.Options) {
		o.Authorizer = wasmclient.HTTPAuthorizer{URL: backend.URL + "/auth"}
	})
	ch := c.subscribe("private-room")
	mu.Lock()
	want := "application/x-www-form-urlencoded channel_name=private-room&socket_id=" + c.SocketID()
	if len(forms) != 1 || forms[0] != want {
		t.Fatalf("auth requests: got %q, want [%q]", forms, want)
	}
	mu.Unlock()
	got := record(ch.Bind, "secret")
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"secret","channel":"private-room","data":"s"}`)
	if e := nextEvent(t, got, "private event"); e.Data != "s" {
		t.Fatalf("private event: got %+v, want data s", e)
	}

	// The backend refuses: subscription_error with its status.
	bad := c.Subscribe("private-forbidden")
	errs := record(bad.Bind, "pusher:subscription_error")
	if e := nextEvent(t, errs, "subscription_error"); !strings.Contains(e.Data, `"status":403`) || !strings.Contains(e.Data, `"type":"AuthError"`) {
		t.Fatalf("refused by backend: got %+v, want AuthError with status 403", e)
	}
	// A wrong signature: the server refuses.
	c2 := connectedGoClient(t, s, "app-key", "wrong-secret", nil)
	wrong := c2.Subscribe("private-room")
	errs = record(wrong.Bind, "pusher:subscription_error")
	if e := nextEvent(t, errs, "subscription_error"); !strings.Contains(e.Data, `"status":401`) {
		t.Fatalf("bad signature: got %+v, want status 401", e)
	}
	if wrong.Subscribed() {
		t.Fatalf("refused channel reports Subscribed")
	}
}

func TestGoClientClientEvents(t *testing.T) {
	s := startPushd(t, "")
	a := connectedGoClient(t, s, "app-key", "app-secret", nil)
	b := connectedGoClient(t, s, "app-key", "app-secret", nil)
	// Triggered before the subscription is confirmed: queued, then sent.
	cha := a.Subscribe("private-chat")
	chb := b.subscribe("private-chat")
	gotB := record(chb.Bind, "client-msg")
	gotA := record(cha.Bind, "client-msg")
	if err := cha.Trigger("client-msg", `{"form_uid":2,"content":"hello"}`); err != nil {
		t.Fatalf("Trigger: %v", err)
	}
	if e := nextEvent(t, gotB, "client event"); e.Data != `{"form_uid":2,"content":"hello"}` || e.Channel != "private-chat" {
		t.Fatalf("client event: got %+v, want the object as JSON text", e)
	}
	noEvent(t, gotA, 200*time.Millisecond) // never back to the sender

	if err := a.Subscribe("public").Trigger("client-x", "{}"); !errors.Is(err, wasmclient.ErrPublicChannel) {
		t.Fatalf("Trigger on a public channel: got %v, want ErrPublicChannel", err)
	}
	if err := cha.Trigger("msg", "{}"); !errors.Is(err, wasmclient.ErrNotClientEvent) {
		t.Fatalf("Trigger without client- prefix: got %v, want ErrNotClientEvent", err)
	}
}

func TestGoClientPresenceMembers(t *testing.T) {
	s := startPushd(t, "")
	member := func(id string) func(*wasmclient.Options) {
		return func(o *wasmclient.Options) {
			o.Authorizer = wasmclient.SecretAuthorizer{Key: "app-key", Secret: "app-secret",
				Member: func(string) (string, string) { return id, `{"name":"` + id + `"}` }}
		}
	}
	a := connectedGoClient(t, s, "app-key", "app-secret", member("alice"))
	cha := a.subscribe("presence-room")
	added := record(cha.Bind, "pusher:member_added")
	removed := record(cha.Bind, "pusher:member_removed")
	if me, ok := cha.Me(); !ok || me.ID != "alice" || me.Info != `{"name":"alice"}` {
		t.Fatalf("Me: got %+v %v, want alice with info", me, ok)
	}
	b := connectedGoClient(t, s, "app-key", "app-secret", member("bob"))
	chb := b.subscribe("presence-room")
	if e := nextEvent(t, added, "member_added"); e.UserID != "bob" {
		t.Fatalf("member_added: got %+v, want bob", e)
	}
	want := []wasmclient.Member{{ID: "alice", Info: `{"name":"alice"}`}, {ID: "bob", Info: `{"name":"bob"}`}}
	for _, ch := range []*wasmclient.Channel{cha, chb} {
		if got := ch.Members(); fmt.Sprint(got) != fmt.Sprint(want) || ch.MemberCount() != 2 {
			t.Fatalf("members: got %v (count %d), want %v", got, ch.MemberCount(), want)
		}
	}
	b.Unsubscribe("presence-room")
	if e := nextEvent(t, removed, "member_removed"); e.UserID != "bob" {
		t.Fatalf("member_removed: got %+v, want bob", e)
	}
	if n := cha.MemberCount(); n != 1 {
		t.Fatalf("count after bob left: got %d, want 1", n)
	}
}

func TestGoClientEncryptedChannel(t *testing.T) {
	s := startPushd(t, "")
	c := connectedGoClient(t, s, "app-key", "app-secret", nil)
	ch := c.subscribe("private-encrypted-vault")
	got := record(ch.Bind, "secret")
	var nonce [24]byte
	rand.Read(nonce[:])
	sealed := wasmclient.Encrypt(wasmclient.SharedSecret(masterKey, "private-encrypted-vault"), &nonce, `{"pin":"1234"}`)
	body, _ := json.Marshal(map[string]string{"name": "secret", "channel": "private-encrypted-vault", "data": sealed})
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", string(body))
	if e := nextEvent(t, got, "encrypted event"); e.Data != `{"pin":"1234"}` {
		t.Fatalf("decrypted: got %q, want {\"pin\":\"1234\"}", e.Data)
	}
	// Sealed with another key: reported, not delivered.
	bad := wasmclient.Encrypt(wasmclient.SharedSecret([]byte("another key, 32 bytes long......"), "x"), &nonce, "x")
	body, _ = json.Marshal(map[string]string{"name": "secret", "channel": "private-encrypted-vault", "data": bad})
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", string(body))
	noEvent(t, got, 300*time.Millisecond)
	select {
	case err := <-c.errs:
		if !strings.Contains(err.Error(), "decrypt") {
			t.Fatalf("error: got %v, want a decryption error", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("no decryption error reported")
	}
	if err := ch.Trigger("client-x", "{}"); !errors.Is(err, wasmclient.ErrEncryptedTrigger) {
		t.Fatalf("Trigger on encrypted: got %v, want ErrEncryptedTrigger", err)
	}
}

func TestGoClientSigninUserEvents(t *testing.T) {
	s := startPushd(t, "")
	c := connectedGoClient(t, s, "app-key", "app-secret", func(o *wasmclient.Options) {
		o.UserAuthenticator = wasmclient.SecretAuthorizer{Key: "app-key", Secret: "app-secret", User: `{"id":"u1","name":"Ann"}`}
	})
	signed := record(c.Bind, "pusher:signin_success")
	got := record(c.BindUser, "notice")
	if err := c.Signin(); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, signed, "pusher:signin_success")
	// sendToUser is a trigger on the user's channel; poll until the user
	// channel's subscription is in place.
	deadline := time.Now().Add(5 * time.Second)
	for {
		trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"notice","channel":"#server-to-user-u1","data":"hello u1"}`)
		select {
		case e := <-got:
			if e.Data != "hello u1" {
				t.Fatalf("user event: got %+v, want hello u1", e)
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no user event within 5s")
		}
	}
}

func TestGoClientCloseCodes(t *testing.T) {
	s := startPushd(t, "")
	for _, tc := range []struct{ key string }{{"no-such-key"}, {"off-key"}} {
		c := newGoClient(t, s, tc.key, "x", nil)
		c.waitState(wasmclient.StateFailed, 5*time.Second)
		var pe *wasmclient.ProtocolError
		found := false
		for len(c.errs) > 0 {
			if err := <-c.errs; errors.As(err, &pe) && pe.Code >= 4001 && pe.Code <= 4003 {
				found = true
			}
		}
		if !found {
			t.Fatalf("%s: no 4001/4003 error reported", tc.key)
		}
		time.Sleep(200 * time.Millisecond) // checking that no retry happens
		if n := c.tr.dialCount(); n != 1 {
			t.Fatalf("%s: %d dials, want 1 (4000-4099 must not reconnect)", tc.key, n)
		}
	}
}
