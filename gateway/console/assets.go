package console

import (
	"embed"
	"fmt"
	"net/http"
	"strings"

	"github.com/pushd/pushd/internal/static"
)

// The page, its script and style, and the vendored chart library
// (vendor/README.md).
var (
	//go:embed console.html
	page []byte
	//go:embed console.js console.css vendor/uPlot.iife.min.js vendor/uPlot.min.css
	assetFiles embed.FS
)

// pageCSP keeps the page to its own origin: its scripts and styles are
// files of the console (no inline script), it connects only to its own
// API, and no other site may frame it (a framed disconnect button could be
// clicked by someone else's page).
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// loadAssets prepares the files served under /console/assets/.
func loadAssets() (map[string]http.Handler, error) {
	out := map[string]http.Handler{}
	for _, name := range []string{"console.js", "console.css", "vendor/uPlot.iife.min.js", "vendor/uPlot.min.css"} {
		b, err := assetFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("console asset %s: %w", name, err)
		}
		ctype := "text/css; charset=utf-8"
		if strings.HasSuffix(name, ".js") {
			ctype = "text/javascript; charset=utf-8"
		}
		// no-cache: revalidated (ETag) on each load, so a new binary's
		// page never runs an old script.
		f, err := static.New(ctype, "no-cache", b)
		if err != nil {
			return nil, fmt.Errorf("console asset %s: %w", name, err)
		}
		out[name[strings.LastIndex(name, "/")+1:]] = f
	}
	return out, nil
}

// page serves the console's page: to anyone while the console is on (its
// login form asks for the credentials). /console?basic asks the browser
// for them instead (its own login dialog) until they are right.
func (c *Console) page(w http.ResponseWriter, r *http.Request) {
	if !c.on(w) {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	if r.URL.Query().Has("basic") && len(c.check(r).keys) == 0 {
		h.Set("WWW-Authenticate", `Basic realm="pushd console"`)
		w.WriteHeader(http.StatusUnauthorized) // a dismissed dialog shows the page and its form
	}
	w.Write(page)
}

// asset serves a file of the page.
func (c *Console) asset(w http.ResponseWriter, r *http.Request) {
	f := c.assets[r.PathValue("file")]
	if f == nil || !c.on(w) {
		if f == nil {
			http.NotFound(w, r)
		}
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	f.ServeHTTP(w, r)
}
