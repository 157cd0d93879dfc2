package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestWebmanPHP runs a webman/push backend's calls from PHP (e2e/php, signed
// as webman's Api class signs: no auth_version, /apps/1024/…) against a
// real pushd, with real WebSocket clients receiving what PHP triggers and a
// PHP webhook receiver checking what pushd sends. An app in webman mode
// (id 7, so 1024 only works because webman mode takes any id) filters its
// webhooks by webman's names; a Pusher-mode app checks the official SDKs'
// signing (auth_version 1.0) from the same PHP client.
func TestWebmanPHP(t *testing.T) {
	requirePHP(t)
	const (
		wmKey, wmSecret = "wm-php-key", "wm-php-secret"
		puKey, puSecret = "pu-php-key", "pu-php-secret"
	)
	hooks := startPHPHooks(t, wmKey, wmSecret)
	s := startPushdWith(t, fmt.Sprintf(`
apps:
  - id: "7"
    key: %s
    secret: %s
    compat: webman
    channel_hook: %s/channel
    user_hook: %s/user
    webhook_events: [channel_added, channel_removed, user_added, user_removed]
  - id: "1"
    key: %s
    secret: %s
`, wmKey, wmSecret, hooks.URL, hooks.URL, puKey, puSecret))
	wm := phpApp{s: s, key: wmKey, secret: wmSecret}

	t.Run("trigger", func(t *testing.T) {
		c, _ := connect(t, s, wmKey)
		subscribePublic(t, c, "php-news")
		if body := wm.ok(t, "trigger", "php-news", "greet", `{"hello":"php","n":1}`); !isJSONObject(body) {
			t.Fatalf("trigger answered %s, want a JSON object", body)
		}
		expectEvent(t, c, "php-news", "greet", `{"hello":"php","n":1}`)
	})

	t.Run("trigger excluding a socket", func(t *testing.T) {
		a, aid := connect(t, s, wmKey)
		b, _ := connect(t, s, wmKey)
		subscribePublic(t, a, "php-excl")
		subscribePublic(t, b, "php-excl")
		wm.ok(t, "trigger", "php-excl", "greet", `{"to":"others"}`, aid)
		expectEvent(t, b, "php-excl", "greet", `{"to":"others"}`)
		a.expectNothing(time.Second)
		// a was listening all along: without socket_id it gets the event.
		wm.ok(t, "trigger", "php-excl", "greet", `{"to":"all"}`)
		expectEvent(t, a, "php-excl", "greet", `{"to":"all"}`)
		expectEvent(t, b, "php-excl", "greet", `{"to":"all"}`)
	})

	t.Run("trigger to several channels", func(t *testing.T) {
		var cs []*rawClient
		for _, ch := range []string{"php-multi-1", "php-multi-2", "php-multi-3"} {
			c, _ := connect(t, s, wmKey)
			subscribePublic(t, c, ch)
			cs = append(cs, c)
		}
		wm.ok(t, "trigger", "php-multi-1,php-multi-2", "greet", `{"multi":true}`)
		expectEvent(t, cs[0], "php-multi-1", "greet", `{"multi":true}`)
		expectEvent(t, cs[1], "php-multi-2", "greet", `{"multi":true}`)
		cs[2].expectNothing(time.Second)
	})

	t.Run("channel info", func(t *testing.T) {
		a, _ := connect(t, s, wmKey)
		b, _ := connect(t, s, wmKey)
		subscribePublic(t, a, "php-info")
		subscribePublic(t, b, "php-info")
		wm.waitBody(t, `{"occupied":true,"subscription_count":2,"user_count":0}`, "channel", "php-info", "subscription_count,user_count")
		wm.waitBody(t, `{"occupied":true,"user_count":0}`, "channel", "php-info", "user_count")
		wm.waitBody(t, `{"occupied":true}`, "channel", "php-info")
		wm.waitBody(t, `{"occupied":false,"subscription_count":0}`, "channel", "php-nobody", "subscription_count")
	})

	t.Run("channel list", func(t *testing.T) {
		a, _ := connect(t, s, wmKey)
		subscribePublic(t, a, "php-list-a")
		subscribePublic(t, a, "php-list-b")
		wm.waitBody(t, `{"channels":{"php-list-a":{"subscription_count":1},"php-list-b":{"subscription_count":1}}}`,
			"channels", "php-list-", "subscription_count")
		wm.waitBody(t, `{"channels":{"php-list-a":{},"php-list-b":{}}}`, "channels", "php-list-")
		all := wm.ok(t, "channels")
		var m struct{ Channels map[string]json.RawMessage }
		if err := json.Unmarshal([]byte(all), &m); err != nil || m.Channels["php-list-a"] == nil {
			t.Fatalf("channel list %s, want php-list-a among the channels (%v)", all, err)
		}
	})

	t.Run("private auth", func(t *testing.T) {
		c, cid := connect(t, s, wmKey)
		a := wm.auth(t, "auth", "private-php", cid)
		if !strings.HasPrefix(a.Auth, wmKey+":") {
			t.Fatalf("auth %q, want key:signature", a.Auth)
		}
		c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": "private-php", "auth": a.Auth}})
		if f := c.expect("pusher_internal:subscription_succeeded"); f.Channel != "private-php" {
			t.Fatalf("subscription_succeeded for %q, want private-php", f.Channel)
		}
		wm.ok(t, "trigger", "private-php", "secret-news", `{"for":"members"}`)
		expectEvent(t, c, "private-php", "secret-news", `{"for":"members"}`)

		// The signature is really checked: one made for another socket fails.
		d, _ := connect(t, s, wmKey)
		d.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": "private-php", "auth": a.Auth}})
		if f := d.expect("pusher:subscription_error"); f.Channel != "private-php" {
			t.Fatalf("subscription_error for %q, want private-php", f.Channel)
		}
	})

	t.Run("presence auth and users", func(t *testing.T) {
		const ch = "presence-php"
		c, cid := connect(t, s, wmKey)
		a := wm.auth(t, "presence-auth", ch, cid, "42", `{"name":"Zoë","url":"https://x.example/a"}`)
		// PHP's json_encode escapes "/" and "é": the signature covers these exact bytes.
		if a.ChannelData != `{"user_id":42,"user_info":{"name":"Zo\u00eb","url":"https:\/\/x.example\/a"}}` {
			t.Fatalf("channel_data %q, want PHP's json_encode of user_id 42 and user_info", a.ChannelData)
		}
		c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": ch, "auth": a.Auth, "channel_data": a.ChannelData}})
		f := c.expect("pusher_internal:subscription_succeeded")
		var d struct{ Presence presenceData }
		if err := json.Unmarshal([]byte(f.dataString(t)), &d); err != nil {
			t.Fatalf("presence data %s: %v", f.Data, err)
		}
		var info struct{ Name, URL string }
		if d.Presence.Count != 1 || len(d.Presence.IDs) != 1 || d.Presence.IDs[0] != "42" ||
			json.Unmarshal(d.Presence.Hash["42"], &info) != nil || info.Name != "Zoë" || info.URL != "https://x.example/a" {
			t.Fatalf("presence data %s, want member 42 with name Zoë", f.dataString(t))
		}
		wm.waitBody(t, `[{"id":42}]`, "users", ch)
		wm.waitBody(t, `{"occupied":true,"user_count":1}`, "channel", ch, "user_count")
		wm.waitBody(t, `[]`, "users", "php-news") // not a presence channel: webman answers an empty list
	})

	t.Run("webhooks", func(t *testing.T) {
		const pub, pres = "php-hook", "presence-php-hook"
		c, cid := connect(t, s, wmKey)
		subscribePublic(t, c, pub)
		a := wm.auth(t, "presence-auth", pres, cid, "7", `{"name":"Hook"}`)
		c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": pres, "auth": a.Auth, "channel_data": a.ChannelData}})
		c.expect("pusher_internal:subscription_succeeded")

		hooks.waitFor("channel_added "+pub, 15*time.Second, func(r phpHookRecord) bool {
			return r.Path == "/channel" && slices.Contains(r.ChannelsOnline, pub)
		})
		hooks.waitFor("channel_added "+pres, 15*time.Second, func(r phpHookRecord) bool {
			return r.Path == "/channel" && slices.Contains(r.ChannelsOnline, pres)
		})
		hooks.waitFor("user_added 7", 15*time.Second, func(r phpHookRecord) bool {
			return r.Path == "/user" && hasMember(r.UsersAdded, pres, 7)
		})
		unsubscribe(c, pub)
		unsubscribe(c, pres)
		// channel_removed and user_removed wait out the 3 s debounce.
		hooks.waitFor("channel_removed "+pub, 20*time.Second, func(r phpHookRecord) bool {
			return r.Path == "/channel" && slices.Contains(r.ChannelsOffline, pub)
		})
		hooks.waitFor("channel_removed "+pres, 20*time.Second, func(r phpHookRecord) bool {
			return r.Path == "/channel" && slices.Contains(r.ChannelsOffline, pres)
		})
		hooks.waitFor("user_removed 7", 20*time.Second, func(r phpHookRecord) bool {
			return r.Path == "/user" && hasMember(r.UsersRemoved, pres, 7)
		})

		// Everything pushd sent was authentic, carried only webman's names
		// and a time_ms in seconds (webman mode), and the receiver really
		// checks: a forged request is refused.
		for _, r := range hooks.records() {
			if !r.OK {
				t.Errorf("PHP receiver refused a request from pushd to %s", r.Path)
			}
			if len(r.Other) > 0 {
				t.Errorf("PHP receiver got events %v besides webman's four", r.Other)
			}
			if sec, ok := r.TimeMS.(float64); !ok || time.Since(time.Unix(int64(sec), 0)).Abs() > 5*time.Minute {
				t.Errorf("time_ms %v, want unix seconds as webman sends", r.TimeMS)
			}
		}
		req, _ := http.NewRequest(http.MethodPost, hooks.URL+"/channel", strings.NewReader(`{"time_ms":1,"events":[{"channel":"x","name":"channel_added"}]}`))
		req.Header.Set("X-Pusher-Key", wmKey)
		req.Header.Set("X-Pusher-Signature", strings.Repeat("0", 64))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("forged webhook: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("forged webhook answered %d, want 401", resp.StatusCode)
		}
	})

	// The official Pusher SDKs add auth_version=1.0 to what they sign; that
	// keeps working, against an app in the default Pusher mode.
	t.Run("pusher signing with auth_version", func(t *testing.T) {
		pu := phpApp{s: s, key: puKey, secret: puSecret, id: "1", authVersion: "1.0"}
		c, _ := connect(t, s, puKey)
		subscribePublic(t, c, "php-official")
		if body := pu.ok(t, "trigger", "php-official", "greet", `{"sdk":"pusher"}`); body != "{}" {
			t.Fatalf("trigger answered %s, want {}", body)
		}
		expectEvent(t, c, "php-official", "greet", `{"sdk":"pusher"}`)
		pu.waitBody(t, `{"occupied":true,"subscription_count":1}`, "channel", "php-official", "subscription_count")

		bad := pu
		bad.secret = "not-the-secret"
		if ans := bad.api(t, "trigger", "php-official", "greet", `{}`); ans.Status != http.StatusUnauthorized {
			t.Fatalf("trigger signed with a wrong secret: %d %s, want 401", ans.Status, ans.Body)
		}
		// A Pusher-mode app keeps its id: webman's /apps/1024 is not it.
		other := pu
		other.id = ""
		if ans := other.api(t, "trigger", "php-official", "greet", `{}`); ans.Status != http.StatusNotFound {
			t.Fatalf("trigger to /apps/1024 of an app with id 1: %d %s, want 404", ans.Status, ans.Body)
		}
		c.expectNothing(500 * time.Millisecond)
	})
}

// expectEvent checks the next frame of c is event on ch carrying data.
func expectEvent(t *testing.T, c *rawClient, ch, event, data string) {
	t.Helper()
	f := c.expect(event)
	if f.Channel != ch || f.dataString(t) != data {
		t.Fatalf("got %s, want %s on %s with data %s", f.raw, event, ch, data)
	}
}

func isJSONObject(s string) bool {
	var m map[string]any
	return json.Unmarshal([]byte(s), &m) == nil
}

// hasMember tells whether a user_added/user_removed list holds user id
// (a JSON number, as webman's server sends numeric ids) on ch.
func hasMember(list []phpHookMem, ch string, id float64) bool {
	for _, m := range list {
		if n, ok := m.UserID.(float64); ok && n == id && m.Channel == ch {
			return true
		}
	}
	return false
}
