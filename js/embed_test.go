package js

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func serve(t *testing.T, method, path string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	mux := http.NewServeMux()
	Register(mux)
	r := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	return w
}

func TestServesEveryPath(t *testing.T) {
	for path, name := range Paths {
		want, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		w := serve(t, http.MethodGet, path, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: status %d, want 200", path, w.Code)
		}
		if !bytes.Equal(w.Body.Bytes(), want) {
			t.Errorf("GET %s: body differs from %s", path, name)
		}
		wantType := "text/javascript; charset=utf-8"
		if strings.HasSuffix(name, ".d.ts") {
			wantType = "application/typescript; charset=utf-8"
		}
		for k, v := range map[string]string{
			"Content-Type":                wantType,
			"Cache-Control":               "public, max-age=3600",
			"Vary":                        "Accept-Encoding",
			"Access-Control-Allow-Origin": "*",
			"Content-Encoding":            "",
		} {
			if got := w.Header().Get(k); got != v {
				t.Errorf("GET %s: %s %q, want %q", path, k, got, v)
			}
		}
		if w.Header().Get("ETag") == "" {
			t.Errorf("GET %s: no ETag", path)
		}
	}
}

// TestWebmanNames checks webman/push's file names: push-uniapp.js is
// uniapp-push.js and push-wx.js is push-miniprogram.js, at the root and under
// /plugin/webman/push/ like the others.
func TestWebmanNames(t *testing.T) {
	for alias, same := range map[string]string{
		"/push-uniapp.js":                         "/uniapp-push.js",
		"/plugin/webman/push/push-uniapp.js":      "/uniapp-push.js",
		"/plugin/webman/push/push-vue.js":         "/push-vue.js",
		"/push-wx.js":                             "/push-miniprogram.js",
		"/plugin/webman/push/push-wx.js":          "/push-miniprogram.js",
		"/plugin/webman/push/push-miniprogram.js": "/push-miniprogram.js",
	} {
		a, b := serve(t, "GET", alias, nil), serve(t, "GET", same, nil)
		if a.Code != http.StatusOK || a.Header().Get("ETag") != b.Header().Get("ETag") || !bytes.Equal(a.Body.Bytes(), b.Body.Bytes()) {
			t.Errorf("GET %s: status %d, want 200 and the body of %s", alias, a.Code, same)
		}
	}
}

func TestWebmanPathIsPushJS(t *testing.T) {
	a, b := serve(t, "GET", "/push.js", nil), serve(t, "GET", "/plugin/webman/push/push.js", nil)
	if a.Header().Get("ETag") != b.Header().Get("ETag") || !bytes.Equal(a.Body.Bytes(), b.Body.Bytes()) {
		t.Fatal("/plugin/webman/push/push.js differs from /push.js")
	}
}

func TestGzip(t *testing.T) {
	plain := serve(t, "GET", "/push.js", nil)
	tests := []struct {
		accept string
		gz     bool
	}{
		{"gzip", true},
		{"gzip, deflate, br", true},
		{"br;q=1.0, gzip;q=0.8", true},
		{"*", true},
		{"gzip;q=0", false},
		{"gzip;q=0, *", false},
		{"identity", false},
		{"deflate, br", false},
		{"*;q=0", false},
	}
	for _, tt := range tests {
		w := serve(t, "GET", "/push.js", map[string]string{"Accept-Encoding": tt.accept})
		gotGz := w.Header().Get("Content-Encoding") == "gzip"
		if gotGz != tt.gz {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", tt.accept, gotGz, tt.gz)
			continue
		}
		if !gotGz {
			continue
		}
		if w.Header().Get("ETag") == plain.Header().Get("ETag") {
			t.Errorf("gzip and plain share ETag %s", w.Header().Get("ETag"))
		}
		zr, err := gzip.NewReader(w.Body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, plain.Body.Bytes()) {
			t.Fatalf("gunzipped body differs (err %v)", err)
		}
		if n := w.Header().Get("Content-Length"); n == "" || n == plain.Header().Get("Content-Length") {
			t.Errorf("gzip Content-Length %q", n)
		}
	}
}

func TestConditional(t *testing.T) {
	first := serve(t, "GET", "/push-vue.js", map[string]string{"Accept-Encoding": "gzip"})
	tag := first.Header().Get("ETag")
	plainTag := serve(t, "GET", "/push-vue.js", nil).Header().Get("ETag")
	for _, inm := range []string{tag, "W/" + tag, `"other", ` + tag, plainTag, "*"} {
		w := serve(t, "GET", "/push-vue.js", map[string]string{"If-None-Match": inm, "Accept-Encoding": "gzip"})
		if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
			t.Errorf("If-None-Match %s: status %d body %d bytes, want 304 and none", inm, w.Code, w.Body.Len())
		}
		if w.Header().Get("ETag") != tag || w.Header().Get("Cache-Control") == "" {
			t.Errorf("304 without ETag/Cache-Control: %v", w.Header())
		}
	}
	if w := serve(t, "GET", "/push-vue.js", map[string]string{"If-None-Match": `"stale"`}); w.Code != http.StatusOK {
		t.Errorf("stale If-None-Match: status %d, want 200", w.Code)
	}
}

func TestMethods(t *testing.T) {
	h := serve(t, "HEAD", "/uniapp-push.js", nil)
	if h.Code != http.StatusOK || h.Body.Len() != 0 || h.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: status %d, %d body bytes, Content-Length %q", h.Code, h.Body.Len(), h.Header().Get("Content-Length"))
	}
	if p := serve(t, "POST", "/push.js", nil); p.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", p.Code)
	}
}
