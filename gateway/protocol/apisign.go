package protocol

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// API request signature errors; all of them mean HTTP 401.
var (
	ErrMissingAuth   = errors.New("missing auth_key, auth_timestamp or auth_signature")
	ErrAuthVersion   = errors.New("auth_version, when given, must be 1.0")
	ErrStaleRequest  = errors.New("auth_timestamp is outside the allowed window")
	ErrBodyMD5       = errors.New("body_md5 does not match the body")
	ErrAPISignature  = errors.New("invalid auth_signature")
	errBadTimestamp  = errors.New("auth_timestamp is not a unix time in seconds")
	errMissingBodyMD = errors.New("body_md5 is required with a request body")
)

// StringToSign builds the string a Pusher API request signs: the method,
// the path and the query without auth_signature, keys lower-cased and
// sorted, values unescaped.
func StringToSign(method, path string, query url.Values) string {
	type kv struct{ k, v string }
	pairs := make([]kv, 0, len(query))
	for k, vs := range query {
		lk := strings.ToLower(k)
		if lk == "auth_signature" {
			continue
		}
		for _, v := range vs {
			pairs = append(pairs, kv{lk, v})
		}
	}
	sort.SliceStable(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	b.WriteString(strings.ToUpper(method))
	b.WriteByte('\n')
	b.WriteString(path)
	b.WriteByte('\n')
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// BodyMD5 returns the hex MD5 of a request body.
func BodyMD5(body []byte) string {
	sum := md5.Sum(body)
	return hex.EncodeToString(sum[:])
}

// SignRequest returns the query parameters (auth_* and body_md5 merged into
// params) of a signed API request.
func SignRequest(key, secret, method, path string, params url.Values, body []byte, now time.Time) url.Values {
	q := url.Values{}
	for k, v := range params {
		q[k] = append([]string(nil), v...)
	}
	q.Set("auth_key", key)
	q.Set("auth_timestamp", strconv.FormatInt(now.Unix(), 10))
	q.Set("auth_version", "1.0")
	if len(body) > 0 {
		q.Set("body_md5", BodyMD5(body))
	}
	q.Set("auth_signature", Sign(secret, StringToSign(method, path, q)))
	return q
}

// VerifyRequest checks a signed API request: the auth parameters, the
// timestamp within window of now, body_md5 and the signature (in constant
// time). The caller has already chosen the app by auth_key.
//
// auth_version is optional: the official SDKs send 1.0, webman/push's Api
// sends none. Absent, it is simply not part of the signed string; present,
// it must be 1.0. The signature, the timestamp window and body_md5 protect
// the request either way.
func VerifyRequest(secret, method, path string, query url.Values, body []byte, now time.Time, window time.Duration) error {
	if query.Get("auth_key") == "" || query.Get("auth_timestamp") == "" || query.Get("auth_signature") == "" {
		return ErrMissingAuth
	}
	if query.Has("auth_version") && (len(query["auth_version"]) != 1 || query.Get("auth_version") != "1.0") {
		return ErrAuthVersion
	}
	ts, err := strconv.ParseInt(query.Get("auth_timestamp"), 10, 64)
	if err != nil {
		return errBadTimestamp
	}
	if d := now.Sub(time.Unix(ts, 0)); d > window || d < -window {
		return fmt.Errorf("%w (%s)", ErrStaleRequest, window)
	}
	if len(body) > 0 || query.Get("body_md5") != "" {
		got := query.Get("body_md5")
		if got == "" {
			return errMissingBodyMD
		}
		if !strings.EqualFold(got, BodyMD5(body)) {
			return ErrBodyMD5
		}
	}
	want := Sign(secret, StringToSign(method, path, query))
	if !hmac.Equal([]byte(strings.ToLower(query.Get("auth_signature"))), []byte(want)) {
		return ErrAPISignature
	}
	return nil
}
