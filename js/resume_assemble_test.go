package js

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// pushd-resume (js/pushd-resume) is one source, src/resume.js, published
// as an ES module and a UMD file (CommonJS, AMD or the global PushdResume).
const resumeDir = "pushd-resume"

// generatedFile is one file built from a source.
type generatedFile struct {
	file string
	body []byte
}

// resumeFiles builds pushd-resume's ES module and UMD file.
func resumeFiles(t *testing.T) []generatedFile {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(resumeDir, "src", "resume.js"))
	if err != nil {
		t.Fatal(err)
	}
	body := strings.TrimRight(string(src), "\n") + "\n"
	head := func(file, what string) string {
		return "/*! pushd-resume " + resumeVersion(t) + " (" + file + ") — " + what + ".\n" +
			" * Nothing lost across a reconnect for pusher-js and Laravel Echo on Pushd. MIT License.\n" +
			" * Generated from js/pushd-resume/src/resume.js by `go generate ./js`: edit the source, not this file. */\n"
	}
	esm := head("pushd-resume.mjs", "ES module: import { enableResume } from 'pushd-resume'") + body +
		"\nexport { enableResume };\nexport default enableResume;\n"
	umd := head("pushd-resume.umd.js", "UMD: require('pushd-resume'), AMD, or <script> defining window.PushdResume") +
		"(function (root, factory) {\n" +
		"  var m = factory();\n" +
		"  if (typeof define === 'function' && define.amd) define([], function () { return m; });\n" +
		"  else if (typeof module === 'object' && module && module.exports) module.exports = m;\n" +
		"  else if (root) root.PushdResume = m;\n" +
		"})(typeof globalThis !== 'undefined' ? globalThis : typeof self !== 'undefined' ? self : this, function () {\n" +
		"'use strict';\n\n" + body +
		"\nreturn { enableResume: enableResume, VERSION: VERSION, default: enableResume };\n});\n"
	return []generatedFile{
		{filepath.Join(resumeDir, "pushd-resume.mjs"), []byte(esm)},
		{filepath.Join(resumeDir, "pushd-resume.umd.js"), []byte(umd)},
	}
}

// resumeVersion is the version in pushd-resume's package.json.
func resumeVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(resumeDir, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p struct{ Version string }
	if err := json.Unmarshal(b, &p); err != nil || p.Version == "" {
		t.Fatalf("pushd-resume/package.json: no version (%v)", err)
	}
	return p.Version
}

// TestResumePackage checks that pushd-resume is publishable as it stands:
// package.json names files that exist, its version is the source's, and
// the entry points and types are the generated files.
func TestResumePackage(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(resumeDir, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Name, Version, License, Main, Module, Types string
		Files                                       []string
		Exports                                     map[string]json.RawMessage
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.Name != "pushd-resume" || p.License != "MIT" {
		t.Errorf("package.json: name %q license %q, want pushd-resume and MIT", p.Name, p.License)
	}
	src, err := os.ReadFile(filepath.Join(resumeDir, "src", "resume.js"))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`var VERSION = '([^']+)';`).FindSubmatch(src); m == nil || string(m[1]) != p.Version {
		t.Errorf("src/resume.js VERSION %q, package.json version %q: keep them equal", m, p.Version)
	}
	var entry map[string]string
	if err := json.Unmarshal(p.Exports["."], &entry); err != nil {
		t.Fatalf("package.json exports[\".\"]: %v", err)
	}
	want := map[string]string{"types": "./pushd-resume.d.ts", "import": "./pushd-resume.mjs", "require": "./pushd-resume.umd.js"}
	for k, v := range want {
		if entry[k] != v {
			t.Errorf("package.json exports[\".\"].%s = %q, want %q", k, entry[k], v)
		}
	}
	if p.Main != "./pushd-resume.umd.js" || p.Module != "./pushd-resume.mjs" || p.Types != "./pushd-resume.d.ts" {
		t.Errorf("package.json main %q module %q types %q", p.Main, p.Module, p.Types)
	}
	for _, f := range append(p.Files, "README.md", "LICENSE") {
		if _, err := os.Stat(filepath.Join(resumeDir, f)); err != nil {
			t.Errorf("package.json: %s: %v", f, err)
		}
	}
	dts, err := os.ReadFile(filepath.Join(resumeDir, "pushd-resume.d.ts"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"export function enableResume", "export interface ResumeHandle", "export interface ResumeFailed", "export default enableResume"} {
		if !strings.Contains(string(dts), name) {
			t.Errorf("pushd-resume.d.ts lacks %q", name)
		}
	}
}
