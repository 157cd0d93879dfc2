package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestServe(t *testing.T) {
	mux := http.NewServeMux()
	Register(mux)
	get := func(path string, header ...string) *http.Response {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		return w.Result()
	}
	plain := get("/push.wasm")
	raw, _ := io.ReadAll(plain.Body)
	if plain.StatusCode != 200 || plain.Header.Get("Content-Type") != "application/wasm" || plain.Header.Get("Content-Encoding") != "" {
		t.Fatalf("GET /push.wasm: %d %v, want 200 application/wasm uncompressed", plain.StatusCode, plain.Header)
	}
	if !bytes.HasPrefix(raw, []byte("\x00asm")) {
		t.Fatalf("GET /push.wasm: body starts %q, want the wasm magic", raw[:min(8, len(raw))])
	}
	zipped := get("/push.wasm", "Accept-Encoding", "br, gzip;q=0.8")
	if zipped.Header.Get("Content-Encoding") != "gzip" || zipped.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("GET /push.wasm with gzip: headers %v, want Content-Encoding gzip and Vary", zipped.Header)
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	if !bytes.Equal(unzipped, raw) {
		t.Fatalf("gzipped push.wasm: %d bytes after gunzip, want the %d plain bytes", len(unzipped), len(raw))
	}
	if got := get("/push.wasm", "Accept-Encoding", "gzip;q=0").Header.Get("Content-Encoding"); got != "" {
		t.Fatalf("gzip;q=0: Content-Encoding %q, want none", got)
	}
	etag := plain.Header.Get("ETag")
	if r := get("/push.wasm", "If-None-Match", etag); r.StatusCode != http.StatusNotModified || etag == "" {
		t.Fatalf("If-None-Match %s: status %d, want 304", etag, r.StatusCode)
	}
	for _, p := range []string{"/push-wasm.js", "/wasm_exec.js"} {
		r := get(p)
		b, _ := io.ReadAll(r.Body)
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || len(b) < 1000 {
			t.Fatalf("GET %s: %d %q %d bytes, want 200 text/javascript", p, r.StatusCode, r.Header.Get("Content-Type"), len(b))
		}
		if r.Header.Get("Cache-Control") != "no-cache" || r.Header.Get("ETag") == "" {
			t.Fatalf("GET %s: cache headers %v", p, r.Header)
		}
	}
}
