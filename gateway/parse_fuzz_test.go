package gateway

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/pushd/pushd/config"
)

// FuzzParseMember feeds arbitrary presence channel_data: it never panics,
// and what it accepts is within the app's limits.
func FuzzParseMember(f *testing.F) {
	for _, s := range []string{`{"user_id":"1"}`, `{"user_id":10,"user_info":{"name":"Mr. Channels"}}`,
		`{"user_id":""}`, `{"user_id":null}`, `{"user_id":[1]}`, `{"user_id":"x","user_info":null}`, `[]`, `"x"`, ``} {
		f.Add(s)
	}
	a := testApp()
	f.Fuzz(func(t *testing.T, channelData string) {
		m, kind, err := parseMember(a, channelData)
		if err != nil {
			if kind == "" {
				t.Fatalf("error %v without a subscription_error type", err)
			}
			return
		}
		if m.UserID == "" || len(m.UserID) > a.MaxUserIDLength || len(m.UserInfo) > a.MaxUserInfoBytes {
			t.Fatalf("accepted %+v", m)
		}
		if len(m.UserInfo) > 0 && !json.Valid(m.UserInfo) {
			t.Fatalf("user_info %q is not JSON", m.UserInfo)
		}
	})
}

// FuzzParseUserData feeds arbitrary signin user_data.
func FuzzParseUserData(f *testing.F) {
	for _, s := range []string{`{"id":"12345"}`, `{"id":"a","watchlist":["b",1,null]}`, `{"id":1}`, `{}`, `null`, `x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, userData string) {
		id, watch, err := parseUserData(userData)
		if err != nil {
			return
		}
		if id == "" || (utf8.ValidString(userData) && !utf8.ValidString(id)) {
			t.Fatalf("accepted id %q", id)
		}
		ids, _ := watchlistIDs(watch)
		if len(ids) > maxWatchlist {
			t.Fatalf("%d watched ids", len(ids))
		}
	})
}

func testApp() *app {
	a := &app{App: config.App{Key: "k", Secret: "s"}}
	a.Limits.Defaults()
	return a
}
