package main

import (
	"io"
	"strings"
	"testing"
)

// TestWebhooksCommandErrors: the command says what is missing before it
// makes any request (the e2e tests run it against a server).
func TestWebhooksCommandErrors(t *testing.T) {
	noEnv := func(string) string { return "" }
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no verb", nil, "usage: pushd webhooks failed|replay"},
		{"unknown verb", []string{"list"}, "usage: pushd webhooks failed|replay"},
		{"unknown flag", []string{"failed", "--nope"}, "flag provided but not defined: -nope"},
		{"no apps", []string{"failed", "--data-dir", t.TempDir()}, "no apps: give --config"},
		{"unknown app", []string{"replay", "--app-key", "k", "--app-secret", "s", "--app", "other"}, `no app with key "other"`},
		{"bad since", []string{"replay", "--app-key", "k", "--app-secret", "s", "--since", "last week"}, "since: give an RFC 3339 time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhooksCommand(t.Context(), tt.args, noEnv, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("webhooks %v: got %v, want an error mentioning %q", tt.args, err, tt.want)
			}
		})
	}
}
