// Package js serves Pushd's JavaScript clients: push.js (browser, webman/push
// compatible), push-vue.js (the same as an ES module), uniapp-push.js
// (uni-app, also served as webman/push's push-uniapp.js), push-miniprogram.js
// (WeChat mini-programs, also served as webman/push's push-wx.js) and
// push.d.ts; and pushd-resume, the module that makes stock pusher-js and
// Laravel Echo resume (pushd-resume.mjs, pushd-resume.umd.js and its types).
package js

//go:generate go test -run TestGeneratedFilesUpToDate -update .

import (
	"embed"
	"net/http"
	"strings"

	"github.com/pushd/pushd/internal/static"
)

//go:embed push.js push-vue.js uniapp-push.js push-miniprogram.js push.d.ts
//go:embed pushd-resume/pushd-resume.mjs pushd-resume/pushd-resume.umd.js pushd-resume/pushd-resume.d.ts
var files embed.FS

// Paths maps each served URL path to its embedded file.
var Paths = map[string]string{
	"/push.js":             "push.js",
	"/push-vue.js":         "push-vue.js",
	"/uniapp-push.js":      "uniapp-push.js",
	"/push-miniprogram.js": "push-miniprogram.js",
	"/push.d.ts":           "push.d.ts",
	// pushd-resume for pusher-js and Laravel Echo (also on npm)
	"/pushd-resume.mjs":    "pushd-resume/pushd-resume.mjs",
	"/pushd-resume.umd.js": "pushd-resume/pushd-resume.umd.js",
	"/pushd-resume.d.ts":   "pushd-resume/pushd-resume.d.ts",
	"/push-uniapp.js":      "uniapp-push.js",      // webman/push's name for it
	"/push-wx.js":          "push-miniprogram.js", // webman/push's name for its mini-program client
	// where webman/push apps load its files from
	"/plugin/webman/push/push.js":             "push.js",
	"/plugin/webman/push/push-vue.js":         "push-vue.js",
	"/plugin/webman/push/push-uniapp.js":      "uniapp-push.js",
	"/plugin/webman/push/push-miniprogram.js": "push-miniprogram.js",
	"/plugin/webman/push/push-wx.js":          "push-miniprogram.js",
}

// Register adds the client files to mux. Each is compressed once, here.
func Register(mux *http.ServeMux) {
	cache := map[string]*static.File{}
	for path, name := range Paths {
		f, ok := cache[name]
		if !ok {
			b, err := files.ReadFile(name)
			if err == nil {
				f, err = static.New(contentType(name), "public, max-age=3600", b)
			}
			if err != nil {
				panic("js: embedded file " + name + ": " + err.Error()) // cannot happen: go:embed checked it
			}
			cache[name] = f
		}
		mux.Handle(path, f)
	}
}

func contentType(name string) string {
	if strings.HasSuffix(name, ".d.ts") {
		return "application/typescript; charset=utf-8"
	}
	return "text/javascript; charset=utf-8"
}
