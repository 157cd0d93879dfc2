package wasmclient

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	c := New(Options{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	tests := []struct {
		name     string
		code, n  int
		lo, hi   time.Duration
		retrying bool
	}{
		{"4001 app not found: stop", 4001, 0, 0, 0, false},
		{"4009 unauthorized: stop", 4009, 3, 0, 0, false},
		{"4200 reconnect: at once", 4200, 0, 0, 25 * time.Millisecond, true},
		{"abnormal close: at once", 1006, 0, 0, 25 * time.Millisecond, true},
		{"4100 over capacity: at least 1 s", 4100, 0, 500 * time.Millisecond, time.Second, true},
		{"second attempt", 1006, 1, 50 * time.Millisecond, 100 * time.Millisecond, true},
		{"third attempt doubles", 1006, 2, 100 * time.Millisecond, 200 * time.Millisecond, true},
		{"capped", 1006, 30, 500 * time.Millisecond, time.Second, true},
		{"4301 frame code as close: backoff", 4301, 2, 100 * time.Millisecond, 200 * time.Millisecond, true},
	}
	for _, tt := range tests {
		for i := 0; i < 50; i++ {
			d, ok := c.backoff(tt.code, tt.n)
			if ok != tt.retrying || d < tt.lo || d > tt.hi {
				t.Fatalf("%s: backoff(%d, %d) = %s, %v; want %v in [%s, %s]", tt.name, tt.code, tt.n, d, ok, tt.retrying, tt.lo, tt.hi)
			}
		}
	}
}

func TestParsePresence(t *testing.T) {
	got := parsePresence(`{"presence":{"ids":["1",2],"hash":{"1":{"name":"a"},"2":null},"count":2}}`)
	if len(got) != 2 || got["1"] != `{"name":"a"}` || got["2"] != "" {
		t.Fatalf("parsePresence: got %v", got)
	}
}

func TestEncryptDecrypt(t *testing.T) {
	key := SharedSecret([]byte("master"), "private-encrypted-x")
	var nonce [24]byte
	rand.Read(nonce[:])
	sealed := Encrypt(key, &nonce, `{"a":"é"}`)
	k, err := sharedKey(SecretAuthorizer{EncryptionMasterKey: []byte("master")}.mustAuth(t, "private-encrypted-x").SharedSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := decrypt(k, sealed); err != nil || got != `{"a":"é"}` {
		t.Fatalf("decrypt: got %q, %v", got, err)
	}
	bad := strings.Replace(sealed, `"ciphertext":"`, `"ciphertext":"AA`, 1)
	if _, err := decrypt(k, bad); err == nil {
		t.Fatalf("decrypt of a tampered box: no error")
	}
}

func (a SecretAuthorizer) mustAuth(t *testing.T, ch string) ChannelAuth {
	t.Helper()
	res, err := a.Authorize(context.Background(), "1.2", ch)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestParseAuthAnswers(t *testing.T) {
	a, err := parseChannelAuth([]byte(`{"auth":"k:s","channel_data":"{\"user_id\":1}","shared_secret":"eA=="}`))
	if err != nil || a.Auth != "k:s" || a.ChannelData != `{"user_id":1}` || a.SharedSecret != "eA==" {
		t.Fatalf("parseChannelAuth: got %+v, %v", a, err)
	}
	if _, err := parseChannelAuth([]byte(`{"error":"no"}`)); err == nil {
		t.Fatalf("parseChannelAuth without auth: no error")
	}
	u, err := parseUserAuth([]byte(`{"auth":"k:s","user_data":"{\"id\":\"1\"}"}`))
	if err != nil || u.UserData != `{"id":"1"}` {
		t.Fatalf("parseUserAuth: got %+v, %v", u, err)
	}
	presence := SecretAuthorizer{Key: "k", Secret: "s", Member: func(string) (string, string) { return "u\"1", `{"n":1}` }}.mustAuth(t, "presence-x")
	if presence.ChannelData != `{"user_id":"u\"1","user_info":{"n":1}}` {
		t.Fatalf("presence channel_data: got %s", presence.ChannelData)
	}
}

func TestBindings(t *testing.T) {
	var b bindings
	var got []string
	h := func(tag string) Handler { return func(Event) { got = append(got, tag) } }
	one := b.add("e", h("one"))
	b.add("e", h("two"))
	b.add("", h("all"))
	b.add("f", h("f"))
	run := func(ev string) string {
		got = nil
		for _, fn := range b.match(ev, nil) {
			fn(Event{})
		}
		return strings.Join(got, ",")
	}
	if s := run("e"); s != "one,two,all" {
		t.Fatalf("match e: got %s", s)
	}
	b.remove("e", []Binding{one})
	if s := run("e"); s != "two,all" {
		t.Fatalf("after removing one: got %s", s)
	}
	b.remove("e", nil)
	if s := run("e"); s != "all" {
		t.Fatalf("after removing e: got %s", s)
	}
	b.remove("", nil)
	if s := run("f"); s != "" {
		t.Fatalf("after removing all: got %s", s)
	}
}
