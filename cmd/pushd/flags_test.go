package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pushd/pushd/config"
)

func TestAppCompatFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pushd.yaml")
	if err := os.WriteFile(file, []byte("apps:\n  - key: k\n    secret: s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		args        []string
		env         map[string]string
		wantCompat  string
		wantWebhook bool // webman webhook names
		wantErr     bool
	}{
		{name: "generated app", wantCompat: config.CompatWebman, wantWebhook: true},
		{name: "generated app, pusher", args: []string{"--app-compat", "pusher"}, wantCompat: config.CompatPusher},
		{name: "generated app, env", env: map[string]string{"PUSHD_APP_COMPAT": "pusher"}, wantCompat: config.CompatPusher},
		{name: "generated app, pusher mode, webman hooks", args: []string{"--app-compat", "pusher", "--webhook-names", "webman"},
			wantCompat: config.CompatPusher, wantWebhook: true},
		{name: "command-line app", args: []string{"--app-key", "k", "--app-secret", "s"}, wantCompat: ""},
		{name: "command-line app, webman", args: []string{"--app-key", "k", "--app-secret", "s", "--app-compat", "webman"},
			wantCompat: config.CompatWebman, wantWebhook: true},
		{name: "command-line app, webhook names env", args: []string{"--app-key", "k", "--app-secret", "s"},
			env: map[string]string{"PUSHD_WEBHOOK_NAMES": "webman"}, wantWebhook: true},
		{name: "config file app", args: []string{"--config", file}, wantCompat: ""},
		{name: "config file with --app-compat", args: []string{"--config", file, "--app-compat", "webman"}, wantErr: true},
		{name: "bad mode", args: []string{"--app-compat", "webmann"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--data-dir", t.TempDir()}, tt.args...)
			cfg, _, err := loadConfig(args, func(k string) string { return tt.env[k] })
			if tt.wantErr {
				if err == nil {
					t.Fatalf("loadConfig %v: got no error, want one", tt.args)
				}
				return
			}
			if err != nil {
				t.Fatalf("loadConfig %v: %v", tt.args, err)
			}
			a := cfg.Apps[len(cfg.Apps)-1]
			if a.Compat != tt.wantCompat || a.WebmanWebhooks() != tt.wantWebhook {
				t.Fatalf("app: compat %q webman webhooks %v, want %q and %v", a.Compat, a.WebmanWebhooks(), tt.wantCompat, tt.wantWebhook)
			}
		})
	}
}
