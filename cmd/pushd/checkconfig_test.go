package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckConfig is issue 15's `pushd check-config FILE`: a file is
// checked as a start would check it; the problems are listed with their
// fields (exit 1), else a short summary (exit 0). Nothing is written.
func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, yaml string
		ok         bool
		want       []string
	}{
		{"valid", "ws_addr: 0.0.0.0:3131\ndata_dir: " + filepath.Join(dir, "data") + "\napps:\n  - key: k1\n    secret: s\n  - key: k2\n    secret: s\n", true,
			[]string{": ok", "websocket  0.0.0.0:3131", "apps       2: k1, k2"}},
		{"no apps", "", true, []string{"apps       none: a start generates one"}},
		{"several problems", "log_level: verbose\nlog_format: xml\napps:\n  - key: k\n    secret: s\n    max_batch_events: -1\n", false,
			[]string{"not valid", `log_level: "verbose"`, `log_format: "xml"`, `apps[0] ("k"): max_batch_events: must not be negative`}},
		{"unknown field", "apps:\n  - key: k\n    secret: s\n    max_event_byte: 5\n", false, []string{"field max_event_byte not found"}},
		{"missing TLS files", "tls_cert: /nonexistent/cert.pem\ntls_key: /nonexistent/key.pem\n", false, []string{"tls_cert, tls_key:", "no such file"}},
		{"missing NATS creds", "nats_url: nats://127.0.0.1:4222\nnats:\n  creds_file: /nonexistent/x.creds\n", false, []string{"nats.creds_file:", "no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := checkConfigCommand([]string{write(tt.name+".yaml", tt.yaml)}, &out)
			if tt.ok != (err == nil) {
				t.Fatalf("err %v, want ok=%v; output:\n%s", err, tt.ok, out.String())
			}
			if err != nil && !errors.Is(err, errLogged) {
				t.Fatalf("err %v, want errLogged (the problems are printed already)", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output:\n%s\nwant it to say %q", out.String(), w)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("check-config created the data dir (%v): it must write nothing", err)
	}
	if err := checkConfigCommand(nil, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "usage: pushd check-config FILE") {
		t.Errorf("no file: %v, want the usage", err)
	}
}
