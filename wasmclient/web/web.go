// Package web serves the WebAssembly client: /push.wasm, /push-wasm.js (the
// loader) and /wasm_exec.js (the Go runtime's glue of the same toolchain).
//
// push.wasm.gz and wasm_exec.js are generated (go generate, or
// `go tool task wasm`) and checked in, so that a fresh clone builds and
// serves them with a plain `go run ./cmd/pushd` and a production binary
// needs no Go toolchain. The e2e suite rebuilds push.wasm and fails when the
// checked-in copy differs.
package web

//go:generate go run ./internal/gen -out .

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

//go:embed push.wasm.gz wasm_exec.js push-wasm.js
var files embed.FS

// Register adds the client's paths to mux.
func Register(mux *http.ServeMux) {
	gz, _ := files.ReadFile("push.wasm.gz")
	mux.Handle("GET /push.wasm", &asset{gz: gz, typ: "application/wasm"})
	for name, typ := range map[string]string{
		"push-wasm.js": "text/javascript; charset=utf-8",
		"wasm_exec.js": "text/javascript; charset=utf-8",
	} {
		b, _ := files.ReadFile(name)
		mux.Handle("GET /"+name, &asset{raw: b, typ: typ})
	}
}

// asset is one file, served gzip-compressed to clients that accept it.
type asset struct {
	typ  string
	gz   []byte // precompressed form, if any
	once sync.Once
	raw  []byte
	etag string
}

func (a *asset) init() {
	a.once.Do(func() {
		if a.raw == nil {
			zr, err := gzip.NewReader(bytes.NewReader(a.gz))
			if err == nil {
				a.raw, err = io.ReadAll(zr)
			}
			if err != nil {
				panic("web: embedded push.wasm.gz is corrupt: " + err.Error())
			}
		}
		sum := sha256.Sum256(a.raw)
		a.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	})
}

// ServeHTTP answers with the file, 304 for a matching If-None-Match. The
// files keep their names across releases and wasm_exec.js must match
// push.wasm, so caches revalidate each time (no-cache) and get a 304.
func (a *asset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.init()
	h := w.Header()
	h.Set("Content-Type", a.typ)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	// Pages load the client from their own origin's scripts; fetching
	// push.wasm from Pushd's origin needs CORS.
	h.Set("Access-Control-Allow-Origin", "*")
	if a.gz != nil {
		h.Set("Vary", "Accept-Encoding")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.raw
	if a.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip.
func acceptsGzip(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(name) != "gzip" && strings.TrimSpace(name) != "*" {
			continue
		}
		params = strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return params != "q=0" && params != "q=0.0" && params != "q=0.00" && params != "q=0.000"
	}
	return false
}
