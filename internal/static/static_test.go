package static

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAcceptsGzip(t *testing.T) {
	for in, want := range map[string]bool{"": false, "gzip": true, "deflate, gzip": true, "gzip;q=0": false,
		"*": true, "br": false, "gzip; q=0.5": true, "x-gzip": false, "GZIP": true, "gzip;q=0, *": false, "*;q=0": false,
		"br;q=1.0, gzip;q=0.8": true, "identity": false} {
		if got := AcceptsGzip(in); got != want {
			t.Errorf("AcceptsGzip(%q): got %v, want %v", in, got, want)
		}
	}
}

func TestServe(t *testing.T) {
	content := []byte(strings.Repeat("console.log('pushd');\n", 100))
	f, err := New("text/javascript; charset=utf-8", "no-cache", content)
	if err != nil {
		t.Fatal(err)
	}
	get := func(method string, header ...string) *http.Response {
		req := httptest.NewRequest(method, "/f.js", nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		f.ServeHTTP(w, req)
		return w.Result()
	}
	plain := get("GET")
	body, _ := io.ReadAll(plain.Body)
	if plain.StatusCode != 200 || !bytes.Equal(body, content) || plain.Header.Get("Content-Encoding") != "" {
		t.Fatalf("GET: %d, %d bytes, encoding %q; want 200 and the plain content", plain.StatusCode, len(body), plain.Header.Get("Content-Encoding"))
	}
	zipped := get("GET", "Accept-Encoding", "gzip")
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	if zipped.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(unzipped, content) || zipped.Header.Get("ETag") == plain.Header.Get("ETag") {
		t.Fatalf("GET with gzip: headers %v; want gzip content with its own ETag", zipped.Header)
	}
	for _, tag := range []string{plain.Header.Get("ETag"), zipped.Header.Get("ETag"), "W/" + plain.Header.Get("ETag"), "*"} {
		if r := get("GET", "If-None-Match", tag, "Accept-Encoding", "gzip"); r.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match %s: %d, want 304", tag, r.StatusCode)
		}
	}
	if r := get("GET", "If-None-Match", `"stale"`); r.StatusCode != 200 {
		t.Errorf("a stale If-None-Match: %d, want 200", r.StatusCode)
	}
	if r := get("GET", "Range", "bytes=0-6"); r.StatusCode != http.StatusPartialContent {
		t.Errorf("Range: %d, want 206", r.StatusCode)
	} else if b, _ := io.ReadAll(r.Body); string(b) != "console" {
		t.Errorf("Range bytes=0-6: %q", b)
	}
	if h := get("HEAD"); h.StatusCode != 200 || h.ContentLength != int64(len(content)) {
		t.Errorf("HEAD: %d, length %d", h.StatusCode, h.ContentLength)
	}
	if p := get("POST"); p.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", p.StatusCode)
	}
	g, err := FromGzip("application/wasm", "no-cache", mustGzip(t, content))
	if err != nil || !bytes.Equal(g.Plain(), content) {
		t.Fatalf("FromGzip: %v", err)
	}
	if _, err := FromGzip("application/wasm", "no-cache", []byte("not gzip")); err == nil {
		t.Fatal("FromGzip of garbage: no error")
	}
}

func mustGzip(t *testing.T, b []byte) []byte {
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}
