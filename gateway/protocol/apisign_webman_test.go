package protocol

import (
	"errors"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// A request signed as webman/push's Api class signs it: no auth_version,
// keys sorted, hex HMAC-SHA256, body_md5 on POST. The signatures were
// computed outside Go (Python's hmac) from the strings shown.
const (
	webmanKey       = "webman-key"
	webmanSecret    = "webman-secret"
	webmanTimestamp = 1700000000
	webmanBody      = `{"name":"message","data":"{\"from_uid\":2}","channels":["user-1"]}`
	webmanBodyMD5   = "9abba80f9c9429912c53019473c52594"
	// "POST\n/apps/1024/events\nauth_key=webman-key&auth_timestamp=1700000000&body_md5=9abba8..."
	webmanPostSig = "60bceef5800f9b939b6ae297c624439b89132bb94a2533202ba6b70d1ee335d7"
	// "GET\n/apps/1024/channels/presence-room\nauth_key=webman-key&auth_timestamp=1700000000&info=user_count,subscription_count"
	webmanGetSig = "1a5e9637e9ea98ec52115ad83ed7ce6fc81de5439818b43e4399fe0cd444bf47"
)

func webmanPostQuery() url.Values {
	return url.Values{
		"auth_key":       {webmanKey},
		"auth_timestamp": {strconv.Itoa(webmanTimestamp)},
		"body_md5":       {webmanBodyMD5},
		"auth_signature": {webmanPostSig},
	}
}

func TestVerifyRequestWithoutAuthVersion(t *testing.T) {
	now := time.Unix(webmanTimestamp, 0)
	tests := []struct {
		name   string
		mutate func(q url.Values)
		body   string
		offset time.Duration
		want   error
	}{
		{name: "webman trigger", want: nil},
		{name: "599 s late", offset: 599 * time.Second, want: nil},
		{name: "601 s late", offset: 601 * time.Second, want: ErrStaleRequest},
		{name: "601 s early", offset: -601 * time.Second, want: ErrStaleRequest},
		{name: "tampered body", body: `{"name":"message","data":"{}","channels":["user-2"]}`, want: ErrBodyMD5},
		{name: "body_md5 removed", mutate: func(q url.Values) { q.Del("body_md5") }, want: errMissingBodyMD},
		{name: "auth_version added after signing", mutate: func(q url.Values) { q.Set("auth_version", "1.0") }, want: ErrAPISignature},
		{name: "auth_version 2.0 added", mutate: func(q url.Values) { q.Set("auth_version", "2.0") }, want: ErrAuthVersion},
		{name: "tampered signature", mutate: func(q url.Values) { q.Set("auth_signature", webmanGetSig) }, want: ErrAPISignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := webmanPostQuery()
			if tt.mutate != nil {
				tt.mutate(q)
			}
			body := webmanBody
			if tt.body != "" {
				body = tt.body
			}
			err := VerifyRequest(webmanSecret, "POST", "/apps/1024/events", q, []byte(body), now.Add(tt.offset), 600*time.Second)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("VerifyRequest: got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyRequestWebmanGet(t *testing.T) {
	q := url.Values{
		"auth_key":       {webmanKey},
		"auth_timestamp": {strconv.Itoa(webmanTimestamp)},
		"info":           {"user_count,subscription_count"},
		"auth_signature": {webmanGetSig},
	}
	err := VerifyRequest(webmanSecret, "GET", "/apps/1024/channels/presence-room", q, nil, time.Unix(webmanTimestamp, 0), 600*time.Second)
	if err != nil {
		t.Fatalf("VerifyRequest of a webman GET: got %v, want nil", err)
	}
}
