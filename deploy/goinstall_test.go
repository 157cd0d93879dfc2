package deploy

import (
	"archive/zip"
	"bytes"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGoInstall checks that `go install github.com/pushd/pushd/cmd/pushd@latest`
// works, as the docs tell: Go refuses it for a module whose go.mod has a
// replace directive. The module (this working tree's files that git tracks
// or would track) is served as v0.1.0 from a module proxy directory, its
// dependencies from the local module cache's download directory, so nothing
// is fetched; GOPATH and GOMODCACHE are new, GOCACHE is shared, and the
// flags match the release build's (CGO off, -trimpath) so that only Pushd's
// own packages compile again (-modcacherw lets the test remove its cache). The installed binary reports v0.1.0 and
// serves a client.
func TestGoInstall(t *testing.T) {
	const version = "v0.1.0"
	tmp := t.TempDir()
	proxy := filepath.Join(tmp, "proxy")
	at := filepath.Join(proxy, "github.com", "pushd", "pushd", "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(repo(t, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"list":            version + "\n",
		version + ".info": `{"Version":"` + version + `","Time":"2026-12-01T00:00:00Z"}`,
		version + ".mod":  string(gomod),
		version + ".zip":  string(moduleZip(t, "github.com/pushd/pushd@"+version)),
	} {
		if err := os.WriteFile(filepath.Join(at, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	modcache := strings.TrimSpace(run(t, 10*time.Second, repo(t), nil, "go", "env", "GOMODCACHE"))
	bin := filepath.Join(tmp, "bin")
	env := []string{
		"GOPROXY=file://" + filepath.ToSlash(proxy) + ",file://" + filepath.ToSlash(filepath.Join(modcache, "cache", "download")),
		"GOPATH=" + filepath.Join(tmp, "gopath"), "GOMODCACHE=" + filepath.Join(tmp, "modcache"), "GOBIN=" + bin,
		"GOFLAGS=-mod=mod -trimpath -modcacherw", "CGO_ENABLED=0", "GOTOOLCHAIN=local",
		"GOSUMDB=off", "GOWORK=off", // both proxies are local files; the checksum database is not reachable offline
	}
	start := time.Now()
	run(t, 8*time.Minute, tmp, env, "go", "install", "github.com/pushd/pushd/cmd/pushd@latest")
	t.Logf("go install took %s", time.Since(start).Round(time.Millisecond))
	pushd := filepath.Join(bin, "pushd")
	if out := run(t, 10*time.Second, "", nil, pushd, "--version"); !strings.HasPrefix(out, "pushd "+version+" ") {
		t.Errorf("--version of the installed binary: got %q, want \"pushd %s …\"", out, version)
	}
	checkServes(t, startBinary(t, pushd))
}

// moduleZip packs the working tree as the module zip of prefix
// (module@version): the files git tracks or would track, without nested
// modules, as the go command's zip rules have it.
func moduleZip(t *testing.T, prefix string) []byte {
	t.Helper()
	root := repo(t)
	out := run(t, 30*time.Second, root, nil, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	files := strings.Split(strings.TrimRight(out, "\x00"), "\x00")
	nested := map[string]bool{}
	for _, f := range files {
		if path.Base(f) == "go.mod" && f != "go.mod" {
			nested[path.Dir(f)+"/"] = true
		}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		skip := strings.HasPrefix(f, "vendor/")
		for dir := range nested {
			skip = skip || strings.HasPrefix(f, dir)
		}
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if skip || os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(prefix + "/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
