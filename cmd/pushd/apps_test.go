package main

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// TestAppsCommandErrors: the command says what is missing before it makes
// any request (e2e/apps_cli_test.go runs it against a server).
func TestAppsCommandErrors(t *testing.T) {
	noEnv := func(string) string { return "" }
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no verb", nil, "usage: pushd apps list|show|create|update|rotate|delete"},
		{"unknown verb", []string{"add"}, "usage: pushd apps"},
		{"no key", []string{"show"}, "give the app's key: pushd apps show KEY"},
		{"flag for a key", []string{"delete", "--json"}, "give the app's key"},
		{"unknown flag", []string{"list", "--nope"}, "flag provided but not defined: -nope"},
		{"no token", []string{"list"}, "no admin token"},
		{"bad set", []string{"create", "--token", "t", "--set", "max_connections"}, `--set "max_connections": want NAME=VALUE`},
		{"bad settings", []string{"update", "k", "--token", "t", "--settings", "[1]"}, "--settings: want a JSON object"},
		{"no server", []string{"list", "--token", "t", "--server", "http://127.0.0.1:1"}, "is the server running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := appsCommand(t.Context(), tt.args, noEnv, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("apps %v: got %v, want an error mentioning %q", tt.args, err, tt.want)
			}
		})
	}
}

func TestSettingsBody(t *testing.T) {
	body, err := settingsBody([]string{"max_connections=100", "disabled=true", "cache_ttl=10m", `allowed_origins=["https://a"]`, "webhook_url=", `id="007"`},
		`{"compat": "webman", "max_connections": 5}`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(body)
	want := `{"allowed_origins":["https://a"],"cache_ttl":"10m","compat":"webman","disabled":true,"id":"007","max_connections":100,"webhook_url":""}`
	if string(b) != want {
		t.Fatalf("body %s\nwant %s", b, want)
	}
}
