package deploy

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestLicense checks that the repository says under which licence it may be
// used (MIT) and that every path NOTICE names for code by others exists with
// its own licence text.
func TestLicense(t *testing.T) {
	b, err := os.ReadFile(repo(t, "LICENSE"))
	if err != nil {
		t.Fatalf("LICENSE: %v", err)
	}
	lic := string(b)
	for _, want := range []string{"MIT License", "Copyright (c) 2026 The Pushd authors", "Permission is hereby granted, free of charge",
		`THE SOFTWARE IS PROVIDED "AS IS"`} {
		if !strings.Contains(lic, want) {
			t.Errorf("LICENSE lacks %q", want)
		}
	}
	b, err = os.ReadFile(repo(t, "NOTICE"))
	if err != nil {
		t.Fatalf("NOTICE: %v", err)
	}
	notice := string(b)
	// Each third-party path in NOTICE, with the file that carries its licence.
	licences := map[string]string{
		"js/src/vendor/tweetnacl":     "js/src/vendor/tweetnacl/LICENSE",
		"wasmclient/web/wasm_exec.js": "wasmclient/web/wasm_exec.js",
	}
	for _, m := range regexp.MustCompile(`(?m)^- (\S+):`).FindAllStringSubmatch(notice, -1) {
		if _, ok := licences[m[1]]; !ok {
			licences[m[1]] = m[1] + "/LICENSE" // a copied module keeps its LICENSE file
		}
	}
	if len(licences) < 3 {
		t.Fatalf("NOTICE names %d third-party paths, want at least 3:\n%s", len(licences), notice)
	}
	for path, file := range licences {
		if !strings.Contains(notice, path) {
			t.Errorf("NOTICE does not name %s", path)
		}
		b, err := os.ReadFile(repo(t, file))
		if err != nil {
			t.Errorf("licence of %s: %v", path, err)
			continue
		}
		if !regexp.MustCompile(`(?i)licen[cs]e|public domain`).Match(b) {
			t.Errorf("%s carries no licence text", file)
		}
		if strings.HasSuffix(path, "/gws") && !strings.Contains(string(b), "Apache License") {
			t.Errorf("%s is not gws's Apache License 2.0", file)
		}
	}
}
