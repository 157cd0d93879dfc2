package main

import "net/http"

// staticFiles serves the client libraries on both ports. Each package
// registers its own exact paths.
func staticFiles() *http.ServeMux {
	mux := http.NewServeMux()
	// js.Register(mux)  (push.js, push-vue.js, uniapp-push.js)
	// web.Register(mux) (push.wasm, push-wasm.js)
	return mux
}
