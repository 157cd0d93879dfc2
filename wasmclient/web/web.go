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
	"embed"
	"net/http"

	"github.com/pushd/pushd/internal/static"
)

//go:embed push.wasm.gz wasm_exec.js push-wasm.js
var files embed.FS

// Register adds the client's paths to mux. The files keep their names
// across releases and wasm_exec.js must match push.wasm, so caches
// revalidate each time (no-cache) and get a 304.
func Register(mux *http.ServeMux) {
	gz, _ := files.ReadFile("push.wasm.gz")
	wasm, err := static.FromGzip("application/wasm", "no-cache", gz)
	if err != nil {
		panic("web: embedded push.wasm.gz is corrupt: " + err.Error())
	}
	mux.Handle("/push.wasm", wasm)
	for _, name := range []string{"push-wasm.js", "wasm_exec.js"} {
		b, _ := files.ReadFile(name)
		f, err := static.New("text/javascript; charset=utf-8", "no-cache", b)
		if err != nil {
			panic("web: " + name + ": " + err.Error())
		}
		mux.Handle("/"+name, f)
	}
}
