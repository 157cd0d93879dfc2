// Package static serves embedded files, the client libraries of js/ and
// wasmclient/web: each file is kept in plain and gzip form, compressed or
// decompressed once at start, with an ETag per form, and served through
// http.ServeContent (conditional requests, HEAD and ranges).
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// File is one served file.
type File struct {
	contentType  string
	cacheControl string
	plain, gz    []byte
	etag, gzTag  string
}

// New makes a File from its plain content; the gzip form is made here.
func New(contentType, cacheControl string, plain []byte) (*File, error) {
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	w.Write(plain)
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return newFile(contentType, cacheControl, plain, z.Bytes()), nil
}

// FromGzip makes a File from its gzip form (a file shipped precompressed);
// the plain form is made here.
func FromGzip(contentType, cacheControl string, gz []byte) (*File, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	return newFile(contentType, cacheControl, plain, gz), nil
}

func newFile(contentType, cacheControl string, plain, gz []byte) *File {
	sum := sha256.Sum256(plain)
	tag := hex.EncodeToString(sum[:12])
	return &File{contentType: contentType, cacheControl: cacheControl, plain: plain, gz: gz,
		etag: `"` + tag + `"`, gzTag: `"` + tag + `-gz"`}
}

// Plain returns the file's content.
func (f *File) Plain() []byte { return f.plain }

// ServeHTTP answers GET and HEAD with the gzip form to clients that accept
// it and the plain form to others, each with its own ETag (a matching
// If-None-Match gets 304). Any origin may load the files: pages load them
// from their own scripts, and push.wasm is fetched cross-origin.
func (f *File) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	body, tag := f.plain, f.etag
	if AcceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, tag = f.gz, f.gzTag
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", f.cacheControl)
	h.Set("ETag", tag)
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Access-Control-Allow-Origin", "*")
	// Either form's tag is the same content: a cache that holds one form
	// need not fetch the other (ServeContent checks only the chosen one).
	if etagMatch(r.Header.Get("If-None-Match"), f.etag, f.gzTag) {
		h.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Header.Get("Range") == "" {
		// ServeContent leaves the length of an encoded body unset.
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// etagMatch reports whether an If-None-Match header names one of tags
// (weak comparison, as RFC 9110 asks for If-None-Match).
func etagMatch(header string, tags ...string) bool {
	if header == "" {
		return false
	}
	for _, c := range strings.Split(header, ",") {
		c = strings.TrimPrefix(strings.TrimSpace(c), "W/")
		if c == "*" {
			return true
		}
		for _, t := range tags {
			if c == t {
				return true
			}
		}
	}
	return false
}

// AcceptsGzip reports whether an Accept-Encoding header allows gzip: it
// names gzip (or *) with a q-value above 0.
func AcceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}
