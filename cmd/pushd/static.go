package main

import (
	"net/http"

	"github.com/pushd/pushd/js"
	"github.com/pushd/pushd/wasmclient/web"
)

// staticFiles serves the client libraries on both ports. Each package
// registers its own exact paths.
func staticFiles() *http.ServeMux {
	mux := http.NewServeMux()
	js.Register(mux)  // push.js, push-vue.js, uniapp-push.js, push-miniprogram.js, push.d.ts
	web.Register(mux) // push.wasm, push-wasm.js, wasm_exec.js
	return mux
}
