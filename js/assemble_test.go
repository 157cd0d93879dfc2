package js

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The served files are generated from js/src so that the clients share one
// core. After editing js/src run `go generate ./js`.
var update = flag.Bool("update", false, "rewrite the client files (push.js, push-vue.js, uniapp-push.js, push-miniprogram.js) from js/src, and pushd-resume's from js/pushd-resume/src")

// format is how a generated file makes Push available.
type format int

const (
	script   format = iota // classic script: a global Push, and module.exports where there is one
	esModule               // export default Push
	commonJS               // module.exports = Push; a global Push only where there is no module system
)

// variant is one generated client file.
type variant struct {
	file, env, what string
	format          format
}

var variants = []variant{
	{"push.js", "env-browser.js", "browser client; classic script defining window.Push (also CommonJS, and `import './push.js'` sets globalThis.Push)", script},
	{"push-vue.js", "env-browser.js", "browser client as an ES module (Vue 3, Vite, any bundler): import Push from './push-vue.js'", esModule},
	{"uniapp-push.js", "mini-request.js env-uniapp.js", "uni-app client over uni.connectSocket and uni.request: import Push from './uniapp-push.js'", esModule},
	{"push-miniprogram.js", "mini-request.js env-miniprogram.js", "WeChat mini-program client over wx.connectSocket and wx.request: const Push = require('./push-miniprogram.js') (or import Push from it)", commonJS},
}

// assemble builds one client file from the core and its environment.
func assemble(t *testing.T, v variant) []byte {
	t.Helper()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("src", name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimRight(string(b), "\n") + "\n"
	}
	var b bytes.Buffer
	b.WriteString("/*! Pushd " + v.file + " — " + v.what + ".\n")
	b.WriteString(" * webman/push compatible Pusher protocol 7 client with resume. Served by pushd at /" + v.file + ".\n")
	b.WriteString(" * Generated from js/src by `go generate ./js`: edit js/src, not this file. */\n")
	body := read("core.js") + "\n"
	for _, env := range strings.Fields(v.env) {
		body += read(env) + "\n"
	}
	body += vendorNacl(read)
	if v.format == esModule {
		b.WriteString(body)
		b.WriteString("\nexport { Push };\nexport default Push;\n")
		return b.Bytes()
	}
	// A classic script also sets the global; the mini-program file sets it
	// only where there is no module system, so that require() leaks nothing.
	global := "  if (root) root.Push = Push;\n"
	if v.format == commonJS {
		global = "  else if (root) root.Push = Push;\n"
	}
	b.WriteString("(function (root, factory) {\n" +
		"  var Push = factory();\n" +
		"  if (typeof module === 'object' && module && module.exports) module.exports = Push;\n" +
		global +
		"})(typeof globalThis !== 'undefined' ? globalThis : typeof self !== 'undefined' ? self : this, function () {\n" +
		"'use strict';\n\n")
	b.WriteString(body)
	b.WriteString("\nreturn Push;\n});\n")
	return b.Bytes()
}

// tweetnacl is the vendored NaCl implementation behind private-encrypted-
// channels: nacl-fast.min.js of the npm package, unchanged. The sum pins the
// file (npm's tarball tweetnacl-1.0.3.tgz has integrity
// sha512-6rt+RN7aOi1nGMyC4Xa5DdYiukl2UWCbcJft7YhxReBGQD7OAM8Pbxw6YMo4r2diNEA8FEmu32YOn9rhaiE5yw==).
const (
	tweetnaclVersion = "1.0.3"
	tweetnaclFile    = "vendor/tweetnacl/nacl-fast.min.js"
	tweetnaclSHA256  = "3ec535c004aeeb225785d8e93fb33bf99f52e399bd7dfc01969b5629baea5131"
)

// vendorNacl wraps tweetnacl in naclFactory(module), which core.js calls the
// first time an encrypted channel needs it. The parameters module, require
// and self shadow the globals tweetnacl looks for, so that it exports into
// the object it is given, sets no global nacl, and never calls
// require('crypto') (bundlers, mini-programs): without them it has no random
// source, which decryption does not need.
func vendorNacl(read func(string) string) string {
	return "// ---- vendor: tweetnacl-js " + tweetnaclVersion + " ------------------------------------------------------\n" +
		"/*! tweetnacl-js " + tweetnaclVersion + " nacl-fast.min.js (npm tweetnacl@" + tweetnaclVersion + "), https://github.com/dchest/tweetnacl-js\n" +
		" * Public domain (The Unlicense): js/src/vendor/tweetnacl/LICENSE. Unchanged between the markers. */\n" +
		"function naclFactory(module, require, self) {\n" +
		"// ---- begin " + tweetnaclFile + "\n" +
		read(tweetnaclFile) +
		"// ---- end " + tweetnaclFile + "\n" +
		"return module.exports;\n}\n"
}

func TestVendoredTweetnacl(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("src", tweetnaclFile))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != tweetnaclSHA256 {
		t.Fatalf("%s is not tweetnacl %s's nacl-fast.min.js (sha256 %x)", tweetnaclFile, tweetnaclVersion, sum)
	}
}

func TestGeneratedFilesUpToDate(t *testing.T) {
	for _, v := range variants {
		generated(t, v.file, assemble(t, v))
	}
	for _, f := range resumeFiles(t) {
		generated(t, f.file, f.body)
	}
}

// generated checks that file holds want, or writes it with -update.
func generated(t *testing.T, file string, want []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not what its source generates: run `go generate ./js`", file)
	}
}
