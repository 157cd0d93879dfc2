package main

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
)

// TestHelp is issue 15: --help exited 1 with "flag: help requested". It
// exits 0 and lists every flag with its PUSHD_* twin, its default where it
// has one, and the config reference.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "-help"} {
		_, _, err := loadConfig([]string{arg}, func(string) string { return "" })
		var out bytes.Buffer
		code, handled := answerOneShot(err, &out)
		if !handled || code != 0 {
			t.Fatalf("%s: handled %v, exit %d (err %v), want exit 0", arg, handled, code, err)
		}
		help := out.String()
		if !strings.Contains(help, "docs/configuration.md") || !strings.Contains(help, "a flag wins over its PUSHD_* environment variable") {
			t.Errorf("%s: the help does not point at docs/configuration.md or say what wins:\n%s", arg, help)
		}
		fs := flag.NewFlagSet("pushd", flag.ContinueOnError)
		var s settings
		s.flags(fs)
		var once oneShot
		once.flags(fs)
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(help, "--"+f.Name+" ") {
				t.Errorf("%s: --%s is not listed", arg, f.Name)
			}
			if !commandLineOnly[f.Name] && !strings.Contains(help, envName(f.Name)) {
				t.Errorf("%s: %s (twin of --%s) is not listed", arg, envName(f.Name), f.Name)
			}
		})
		for _, d := range []string{"default 127.0.0.1:3131", "default 127.0.0.1:3232", "default ./data", "default info", "default text"} {
			if !strings.Contains(help, d) {
				t.Errorf("%s: no %q in the help", arg, d)
			}
		}
		if strings.Contains(help, "(default") {
			t.Errorf("%s: a default left in a usage text rather than its column:\n%s", arg, help)
		}
	}
}

// TestConfigReferenceNamesEveryFlag keeps docs/configuration.md in step
// with the flags: each one and its environment twin are named there.
func TestConfigReferenceNamesEveryFlag(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("pushd", flag.ContinueOnError)
	var s settings
	s.flags(fs)
	var once oneShot
	once.flags(fs)
	fs.VisitAll(func(f *flag.Flag) {
		if !bytes.Contains(doc, []byte("`--"+f.Name)) {
			t.Errorf("docs/configuration.md does not name --%s", f.Name)
		}
		if !commandLineOnly[f.Name] && !bytes.Contains(doc, []byte(envName(f.Name))) {
			t.Errorf("docs/configuration.md does not name %s", envName(f.Name))
		}
	})
}

// TestConsoleFlags: the console, only in YAML before, is turned on by a
// flag or a variable, and --console-with-secret=false overrides the file.
func TestConsoleFlags(t *testing.T) {
	file := t.TempDir() + "/pushd.yaml"
	if err := os.WriteFile(file, []byte("console_with_secret: true\napps:\n  - key: k\n    secret: s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		args         []string
		env          map[string]string
		password     string
		withSecret   bool
		wantErrorsOn string
	}{
		{name: "file only", args: []string{"--config", file}, withSecret: true},
		{name: "flag", args: []string{"--config", file, "--console-password", "pw"}, password: "pw", withSecret: true},
		{name: "env", args: []string{"--config", file}, env: map[string]string{"PUSHD_CONSOLE_PASSWORD": "envpw", "PUSHD_CONSOLE_WITH_SECRET": "false"}, password: "envpw"},
		{name: "flag beats env", args: []string{"--config", file, "--console-password", "flagpw", "--console-with-secret=false"},
			env: map[string]string{"PUSHD_CONSOLE_PASSWORD": "envpw", "PUSHD_CONSOLE_WITH_SECRET": "true"}, password: "flagpw"},
		{name: "bad env bool", args: []string{"--config", file}, env: map[string]string{"PUSHD_CONSOLE_WITH_SECRET": "yes please"}, wantErrorsOn: "PUSHD_CONSOLE_WITH_SECRET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, err := loadConfig(append(tc.args, "--data-dir", t.TempDir()), func(k string) string { return tc.env[k] })
			if tc.wantErrorsOn != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrorsOn) {
					t.Fatalf("got %v, want an error naming %s", err, tc.wantErrorsOn)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ConsolePassword != tc.password || cfg.ConsoleWithSecret != tc.withSecret {
				t.Fatalf("console password %q with secret %v, want %q and %v", cfg.ConsolePassword, cfg.ConsoleWithSecret, tc.password, tc.withSecret)
			}
		})
	}
}
