package protocol

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The worked example of Pusher's REST API documentation (PROTOCOL.md C75).
const (
	c75Key       = "278d425bdf160c739803"
	c75Secret    = "7ad3773142a6692b25b8"
	c75Path      = "/apps/3/events"
	c75Body      = `{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}`
	c75Timestamp = 1353088179
	c75BodyMD5   = "ec365a775a4cd0599faeb73354201b6f"
	c75ToSign    = "POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f"
	c75Signature = "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
)

// c75Query returns the signed query of the C75 example.
func c75Query() url.Values {
	return url.Values{
		"auth_key":       {c75Key},
		"auth_timestamp": {strconv.Itoa(c75Timestamp)},
		"auth_version":   {"1.0"},
		"body_md5":       {c75BodyMD5},
		"auth_signature": {c75Signature},
	}
}

func TestC75WorkedExample(t *testing.T) {
	if got := BodyMD5([]byte(c75Body)); got != c75BodyMD5 {
		t.Errorf("BodyMD5: got %q, want %q", got, c75BodyMD5)
	}
	// auth_signature is never part of the string to sign.
	if got := StringToSign("POST", c75Path, c75Query()); got != c75ToSign {
		t.Errorf("StringToSign:\n got %q\nwant %q", got, c75ToSign)
	}
	if got := Sign(c75Secret, c75ToSign); got != c75Signature {
		t.Errorf("Sign: got %q, want %q", got, c75Signature)
	}
	q := SignRequest(c75Key, c75Secret, "POST", c75Path, nil, []byte(c75Body), time.Unix(c75Timestamp, 0))
	for k, want := range c75Query() {
		if got := q[k]; len(got) != 1 || got[0] != want[0] {
			t.Errorf("SignRequest %s: got %q, want %q", k, got, want)
		}
	}
	if len(q) != len(c75Query()) {
		t.Errorf("SignRequest: got %d params %v, want %d", len(q), q, len(c75Query()))
	}
}

func TestStringToSign(t *testing.T) {
	tests := []struct {
		name   string
		method string
		path   string
		query  url.Values
		want   string
	}{
		{"empty query", "GET", "/apps/1/channels", url.Values{}, "GET\n/apps/1/channels\n"},
		{"nil query", "GET", "/apps/1/channels", nil, "GET\n/apps/1/channels\n"},
		{"method upper-cased", "post", "/p", url.Values{"a": {"1"}}, "POST\n/p\na=1"},
		{"keys sorted", "GET", "/p", url.Values{"b": {"2"}, "a": {"1"}, "c": {"3"}}, "GET\n/p\na=1&b=2&c=3"},
		{"keys lower-cased then sorted", "GET", "/p",
			url.Values{"B": {"2"}, "a": {"1"}, "Auth_Key": {"k"}}, "GET\n/p\na=1&auth_key=k&b=2"},
		{"auth_signature dropped", "GET", "/p",
			url.Values{"a": {"1"}, "auth_signature": {"x"}}, "GET\n/p\na=1"},
		{"auth_signature dropped in any case", "GET", "/p",
			url.Values{"a": {"1"}, "AUTH_Signature": {"x"}}, "GET\n/p\na=1"},
		{"values not escaped", "GET", "/apps/1/channels",
			url.Values{"filter_by_prefix": {"presence-"}, "info": {"user_count,subscription_count"}, "q": {"a b&c=d/é"}},
			"GET\n/apps/1/channels\nfilter_by_prefix=presence-&info=user_count,subscription_count&q=a b&c=d/é"},
		{"repeated key keeps every value, sorted", "GET", "/p",
			url.Values{"channels[]": {"b", "a"}}, "GET\n/p\nchannels[]=a&channels[]=b"},
		{"empty value", "GET", "/p", url.Values{"a": {""}}, "GET\n/p\na="},
		{"path kept as given", "GET", "/apps/1/channels/presence-x%2Fy/users", nil,
			"GET\n/apps/1/channels/presence-x%2Fy/users\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StringToSign(tt.method, tt.path, tt.query); got != tt.want {
				t.Errorf("StringToSign:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// verifyCases are mutations of the C75 request with the error VerifyRequest
// must return; they also seed FuzzVerifyRequest.
var verifyCases = []struct {
	name   string
	secret string
	method string
	path   string
	mutate func(q url.Values) // applied to a copy of c75Query
	body   string
	offset time.Duration // now - auth_timestamp
	want   error         // nil = accepted
}{
	{name: "worked example", want: nil},
	{name: "600 s late", offset: 600 * time.Second, want: nil},
	{name: "600 s early", offset: -600 * time.Second, want: nil},
	{name: "601 s late", offset: 601 * time.Second, want: ErrStaleRequest},
	{name: "601 s early", offset: -601 * time.Second, want: ErrStaleRequest},
	{name: "a day late", offset: 24 * time.Hour, want: ErrStaleRequest},
	{name: "upper-case hex signature", want: nil,
		mutate: func(q url.Values) { q.Set("auth_signature", strings.ToUpper(c75Signature)) }},
	{name: "wrong body_md5", want: ErrBodyMD5,
		mutate: func(q url.Values) { q.Set("body_md5", BodyMD5([]byte("other"))) }},
	{name: "missing body_md5 with a body", want: errMissingBodyMD,
		mutate: func(q url.Values) { q.Del("body_md5") }},
	{name: "tampered body", body: strings.Replace(c75Body, "project-3", "project-4", 1), want: ErrBodyMD5},
	{name: "body_md5 with an empty body", body: "-", want: ErrBodyMD5}, // "-" means empty below
	{name: "missing auth_key", want: ErrMissingAuth, mutate: func(q url.Values) { q.Del("auth_key") }},
	{name: "missing auth_timestamp", want: ErrMissingAuth, mutate: func(q url.Values) { q.Del("auth_timestamp") }},
	// Dropping auth_version is allowed, but it was part of what was signed.
	{name: "auth_version dropped after signing", want: ErrAPISignature, mutate: func(q url.Values) { q.Del("auth_version") }},
	{name: "empty auth_version", want: ErrAuthVersion, mutate: func(q url.Values) { q.Set("auth_version", "") }},
	{name: "auth_version twice", want: ErrAuthVersion, mutate: func(q url.Values) { q.Add("auth_version", "1.0") }},
	{name: "missing auth_signature", want: ErrMissingAuth, mutate: func(q url.Values) { q.Del("auth_signature") }},
	{name: "empty auth_signature", want: ErrMissingAuth, mutate: func(q url.Values) { q.Set("auth_signature", "") }},
	{name: "upper-case auth_signature key", want: ErrMissingAuth, mutate: func(q url.Values) {
		q["AUTH_SIGNATURE"] = q["auth_signature"]
		q.Del("auth_signature")
	}},
	{name: "auth_version 2.0", want: ErrAuthVersion, mutate: func(q url.Values) { q.Set("auth_version", "2.0") }},
	{name: "auth_version 1", want: ErrAuthVersion, mutate: func(q url.Values) { q.Set("auth_version", "1") }},
	{name: "timestamp not a number", want: errBadTimestamp, mutate: func(q url.Values) { q.Set("auth_timestamp", "yesterday") }},
	{name: "timestamp in milliseconds", want: ErrStaleRequest,
		mutate: func(q url.Values) { q.Set("auth_timestamp", strconv.Itoa(c75Timestamp*1000)) }},
	{name: "tampered signature", want: ErrAPISignature, mutate: func(q url.Values) {
		q.Set("auth_signature", c75Signature[:len(c75Signature)-1]+"d")
	}},
	{name: "truncated signature", want: ErrAPISignature,
		mutate: func(q url.Values) { q.Set("auth_signature", c75Signature[:63]) }},
	{name: "signature with trailing byte", want: ErrAPISignature,
		mutate: func(q url.Values) { q.Set("auth_signature", c75Signature+"0") }},
	{name: "extra parameter", want: ErrAPISignature, mutate: func(q url.Values) { q.Set("info", "user_count") }},
	{name: "other auth_key", want: ErrAPISignature, mutate: func(q url.Values) { q.Set("auth_key", "other") }},
	{name: "tampered body with its body_md5", want: ErrAPISignature,
		body: `{"name":"evil","channels":["project-3"],"data":"{}"}`,
		mutate: func(q url.Values) {
			q.Set("body_md5", BodyMD5([]byte(`{"name":"evil","channels":["project-3"],"data":"{}"}`)))
		}},
	{name: "wrong secret", secret: "not-the-secret", want: ErrAPISignature},
	{name: "wrong method", method: "PUT", want: ErrAPISignature},
	{name: "wrong path", path: "/apps/4/events", want: ErrAPISignature},
}

func TestVerifyRequest(t *testing.T) {
	for _, tt := range verifyCases {
		t.Run(tt.name, func(t *testing.T) {
			secret, method, path, body := c75Secret, "POST", c75Path, c75Body
			if tt.secret != "" {
				secret = tt.secret
			}
			if tt.method != "" {
				method = tt.method
			}
			if tt.path != "" {
				path = tt.path
			}
			switch tt.body {
			case "":
			case "-":
				body = ""
			default:
				body = tt.body
			}
			q := c75Query()
			if tt.mutate != nil {
				tt.mutate(q)
			}
			now := time.Unix(c75Timestamp, 0).Add(tt.offset)
			err := VerifyRequest(secret, method, path, q, []byte(body), now, 600*time.Second)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("VerifyRequest: got %v, want %v", err, tt.want)
			}
			if err != nil && strings.Contains(strings.ToLower(err.Error()), c75Signature) {
				t.Errorf("error %q reveals the expected signature", err)
			}
		})
	}
}

func TestVerifyRequestWithoutBody(t *testing.T) {
	now := time.Unix(1700000000, 0)
	params := url.Values{"filter_by_prefix": {"presence-"}, "info": {"user_count"}}
	q := SignRequest("k", "s", "GET", "/apps/1/channels", params, nil, now)
	if _, ok := q["body_md5"]; ok {
		t.Fatalf("SignRequest without body: got body_md5 %q, want none", q.Get("body_md5"))
	}
	if err := VerifyRequest("s", "GET", "/apps/1/channels", q, nil, now, 600*time.Second); err != nil {
		t.Fatalf("VerifyRequest GET without body: got %v, want nil", err)
	}
	// A body that arrives without a body_md5 in the signed query is refused.
	err := VerifyRequest("s", "GET", "/apps/1/channels", q, []byte("{}"), now, 600*time.Second)
	if !errors.Is(err, errMissingBodyMD) {
		t.Fatalf("VerifyRequest with unsigned body: got %v, want %v", err, errMissingBodyMD)
	}
}

func TestSignRequestRoundTrip(t *testing.T) {
	now := time.Unix(1700000000, 0)
	tests := []struct {
		name, method, path string
		params             url.Values
		body               string
	}{
		{"trigger", "POST", "/apps/1/events", nil, `{"name":"e","channel":"c","data":"{}"}`},
		{"lower-case method", "post", "/apps/1/batch_events", nil, `{"batch":[]}`},
		{"channels with info", "GET", "/apps/1/channels", url.Values{"filter_by_prefix": {"presence-"}, "info": {"user_count"}}, ""},
		{"mixed-case keys", "GET", "/apps/1/channels/x", url.Values{"Info": {"subscription_count"}, "ZZ": {"1"}, "aa": {"2"}}, ""},
		{"repeated values", "GET", "/p", url.Values{"channels[]": {"z", "a", "m"}}, ""},
		{"unescaped characters", "GET", "/p", url.Values{"q": {"a b&c=d;é"}}, ""},
		{"binary body", "POST", "/apps/1/events", nil, "\x00\xff\xfe"},
		{"terminate", "POST", "/apps/1/users/u%201/terminate_connections", nil, "{}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before string
			if tt.params != nil {
				before = tt.params.Encode()
			}
			q := SignRequest("key", "secret", tt.method, tt.path, tt.params, []byte(tt.body), now)
			if tt.params != nil && tt.params.Encode() != before {
				t.Errorf("SignRequest changed params: got %q, want %q", tt.params.Encode(), before)
			}
			if got, want := q.Get("auth_key"), "key"; got != want {
				t.Errorf("auth_key: got %q, want %q", got, want)
			}
			if got, want := q.Get("auth_timestamp"), "1700000000"; got != want {
				t.Errorf("auth_timestamp: got %q, want %q", got, want)
			}
			if got, want := q.Get("auth_version"), "1.0"; got != want {
				t.Errorf("auth_version: got %q, want %q", got, want)
			}
			if tt.body != "" {
				if got, want := q.Get("body_md5"), BodyMD5([]byte(tt.body)); got != want {
					t.Errorf("body_md5: got %q, want %q", got, want)
				}
			}
			sig := q.Get("auth_signature")
			if want := Sign("secret", StringToSign(tt.method, tt.path, q)); sig != want {
				t.Errorf("auth_signature: got %q, want %q", sig, want)
			}
			if sig != strings.ToLower(sig) || len(sig) != 64 {
				t.Errorf("auth_signature: got %q, want 64 lower-case hex digits", sig)
			}
			// The query survives the trip through a URL.
			parsed, err := url.ParseQuery(q.Encode())
			if err != nil {
				t.Fatalf("ParseQuery(%q): %v", q.Encode(), err)
			}
			for _, later := range []time.Duration{0, 599 * time.Second, -599 * time.Second} {
				if err := VerifyRequest("secret", tt.method, tt.path, parsed, []byte(tt.body), now.Add(later), 600*time.Second); err != nil {
					t.Errorf("VerifyRequest at %+v: got %v, want nil", later, err)
				}
			}
			if err := VerifyRequest("other", tt.method, tt.path, parsed, []byte(tt.body), now, 600*time.Second); !errors.Is(err, ErrAPISignature) {
				t.Errorf("VerifyRequest with another secret: got %v, want %v", err, ErrAPISignature)
			}
		})
	}
}

// FuzzVerifyRequest feeds random queries and bodies to VerifyRequest: it must
// never panic and never accept a request whose signature, timestamp or body
// does not check out. A signed copy of the same input must be accepted.
func FuzzVerifyRequest(f *testing.F) {
	for _, tt := range verifyCases {
		q := c75Query()
		if tt.mutate != nil {
			tt.mutate(q)
		}
		method, path := "POST", c75Path
		if tt.method != "" {
			method = tt.method
		}
		if tt.path != "" {
			path = tt.path
		}
		f.Add(method, path, q.Encode(), []byte(tt.body), int64(tt.offset/time.Second))
	}
	f.Add("GET", "/apps/1/channels", "filter_by_prefix=presence-&info=user_count", []byte(nil), int64(0))
	f.Add("get", "/", "auth_key=&auth_timestamp=%2B1&AUTH_SIGNATURE=x&body_md5=", []byte("\xff"), int64(-1))
	f.Add("POST", "/p", "auth_timestamp=9223372036854775807&auth_version=1.0&auth_key=k&auth_signature=0", []byte("{}"), int64(1<<40))
	const secret = "fuzz-secret"
	base := time.Unix(1700000000, 0)
	window := 600 * time.Second
	f.Fuzz(func(t *testing.T, method, path, rawQuery string, body []byte, offset int64) {
		if len(method)+len(path)+len(rawQuery)+len(body) > 2048 {
			return // larger inputs exercise nothing new and slow the minimizer
		}
		q, _ := url.ParseQuery(rawQuery) // keep what parsed
		now := base.Add(time.Duration(offset%(1<<32)) * time.Second)

		if err := VerifyRequest(secret, method, path, q, body, now, window); err == nil {
			want := Sign(secret, StringToSign(method, path, q))
			if got := strings.ToLower(q.Get("auth_signature")); got != want {
				t.Fatalf("accepted signature %q, want %q", got, want)
			}
			ts, perr := strconv.ParseInt(q.Get("auth_timestamp"), 10, 64)
			if perr != nil {
				t.Fatalf("accepted timestamp %q: %v", q.Get("auth_timestamp"), perr)
			}
			if d := now.Unix() - ts; d > 600 || d < -600 {
				t.Fatalf("accepted timestamp %d at %d: %d s off, want at most 600", ts, now.Unix(), d)
			}
			if len(body) > 0 && !strings.EqualFold(q.Get("body_md5"), BodyMD5(body)) {
				t.Fatalf("accepted body_md5 %q for body with MD5 %q", q.Get("body_md5"), BodyMD5(body))
			}
		}

		// Signing the same input must produce a request VerifyRequest accepts,
		// unless the caller's own body_md5 is kept and contradicts the body.
		signed := SignRequest("key", secret, method, path, q, body, now)
		if len(body) == 0 && signed.Get("body_md5") != "" && signed.Get("body_md5") != BodyMD5(nil) {
			return
		}
		if err := VerifyRequest(secret, method, path, signed, body, now, window); err != nil {
			t.Fatalf("VerifyRequest of a signed request: got %v, want nil (query %q)", err, signed.Encode())
		}
		if err := VerifyRequest(secret+"x", method, path, signed, body, now, window); err == nil {
			t.Fatalf("VerifyRequest with another secret accepted %q", signed.Encode())
		}
		// One hex digit changed (not just its case) must be refused.
		sig := []byte(signed.Get("auth_signature"))
		i := int(uint64(offset) % uint64(len(sig)))
		if sig[i] == '0' {
			sig[i] = '1'
		} else {
			sig[i] = '0'
		}
		signed.Set("auth_signature", string(sig))
		if err := VerifyRequest(secret, method, path, signed, body, now, window); !errors.Is(err, ErrAPISignature) {
			t.Fatalf("VerifyRequest with tampered signature %q: got %v, want %v", sig, err, ErrAPISignature)
		}
	})
}
