// Package js serves Pushd's JavaScript clients: push.js (browser, webman/push
// compatible), push-vue.js (the same as an ES module), uniapp-push.js
// (uni-app, also served as webman/push's push-uniapp.js), push-miniprogram.js
// (WeChat mini-programs, also served as webman/push's push-wx.js) and
// push.d.ts.
package js

//go:generate go test -run TestGeneratedFilesUpToDate -update .

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

//go:embed push.js push-vue.js uniapp-push.js push-miniprogram.js push.d.ts
var files embed.FS

// Paths maps each served URL path to its embedded file.
var Paths = map[string]string{
	"/push.js":             "push.js",
	"/push-vue.js":         "push-vue.js",
	"/uniapp-push.js":      "uniapp-push.js",
	"/push-miniprogram.js": "push-miniprogram.js",
	"/push.d.ts":           "push.d.ts",
	"/push-uniapp.js":      "uniapp-push.js",      // webman/push's name for it
	"/push-wx.js":          "push-miniprogram.js", // webman/push's name for its mini-program client
	// where webman/push apps load its files from
	"/plugin/webman/push/push.js":             "push.js",
	"/plugin/webman/push/push-vue.js":         "push-vue.js",
	"/plugin/webman/push/push-uniapp.js":      "uniapp-push.js",
	"/plugin/webman/push/push-miniprogram.js": "push-miniprogram.js",
	"/plugin/webman/push/push-wx.js":          "push-miniprogram.js",
}

// asset is one file with its precomputed representations.
type asset struct {
	contentType string
	plain, gz   []byte
	etag, gzTag string
}

func load(name string) (*asset, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	w.Write(b)
	if err := w.Close(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	tag := hex.EncodeToString(sum[:8])
	ct := "text/javascript; charset=utf-8"
	if strings.HasSuffix(name, ".d.ts") {
		ct = "application/typescript; charset=utf-8"
	}
	return &asset{contentType: ct, plain: b, gz: z.Bytes(), etag: `"` + tag + `"`, gzTag: `"` + tag + `-gz"`}, nil
}

// Register adds the client files to mux. Each is compressed once, here.
func Register(mux *http.ServeMux) {
	cache := map[string]*asset{}
	for path, name := range Paths {
		a, ok := cache[name]
		if !ok {
			var err error
			if a, err = load(name); err != nil {
				panic("js: embedded file " + name + ": " + err.Error()) // cannot happen: go:embed checked it
			}
			cache[name] = a
		}
		mux.Handle(path, a)
	}
}

// ServeHTTP answers GET and HEAD with caching headers, 304 for a matching
// If-None-Match, and the gzip representation when the client accepts it.
func (a *asset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	body, tag := a.plain, a.etag
	gz := acceptsGzip(r.Header.Get("Accept-Encoding"))
	if gz {
		body, tag = a.gz, a.gzTag
	}
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", tag)
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Access-Control-Allow-Origin", "*") // <script type=module> from another origin
	if etagMatch(r.Header.Get("If-None-Match"), a.etag, a.gzTag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if gz {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (q > 0).
func acceptsGzip(header string) bool {
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
		if name == "gzip" || q > 0 {
			return q > 0
		}
	}
	return false
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
