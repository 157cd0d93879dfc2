// Command gen builds push.wasm with the Go toolchain at hand and writes
// push.wasm.gz and wasm_exec.js (copied from $(go env GOROOT)/lib/wasm, so
// that the glue always matches the compiler) into the web package, which
// embeds them. Run it with `go generate ./wasmclient/web` or
// `go tool task wasm`; the e2e suite fails when the files are stale.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	out := flag.String("out", ".", "directory to write push.wasm.gz and wasm_exec.js into")
	raw := flag.String("raw", "", "also write the uncompressed push.wasm here")
	flag.Parse()
	wasm, err := Build()
	if err != nil {
		log.Fatal(err)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		log.Fatalf("go env GOROOT: %v", err)
	}
	glue, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		log.Fatal(err)
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(wasm)
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	write(filepath.Join(*out, "push.wasm.gz"), gz.Bytes())
	write(filepath.Join(*out, "wasm_exec.js"), glue)
	if *raw != "" {
		write(*raw, wasm)
	}
	log.Printf("push.wasm: %d bytes, %d gzipped", len(wasm), gz.Len())
}

// Build compiles wasmclient/cmd/pushwasm for GOOS=js GOARCH=wasm, stripped
// and reproducible (-trimpath, no VCS stamp).
func Build() ([]byte, error) {
	dir, err := os.MkdirTemp("", "pushwasm-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "push.wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", bin,
		"github.com/pushd/pushd/wasmclient/cmd/pushwasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, err
	}
	return os.ReadFile(bin)
}

func write(path string, b []byte) {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		log.Fatal(err)
	}
}
