package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// appsCLI runs `pushd args...` against s (the admin token from the
// environment, as an operator would set it) and returns its output.
func appsCLI(t *testing.T, s *server, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, pushdBin, append(args, "--server", s.APIURL())...)
	cmd.Env = append(os.Environ(), "PUSHD_ADMIN_TOKEN="+adminToken)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pushd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestAppsCLIRoundTrip: `pushd apps create`, `list --json`, `show`,
// `update`, `rotate` and `delete` against a running pushd; the app works
// with the secret create printed, then with the rotated one.
func TestAppsCLIRoundTrip(t *testing.T) {
	s := startPushd(t, "admin_token: "+adminToken+"\n")
	var created struct {
		App struct {
			ID, Key string
		}
		Secret string
	}
	out := appsCLI(t, s, "apps", "create", "--json", "--id", "300", "--set", "max_connections=7", "--set", "cache_ttl=5m")
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.Secret == "" || created.App.ID != "300" {
		t.Fatalf("apps create --json: %v\n%s", err, out)
	}
	key := created.App.Key
	if st, resp := apiCall(t, s, key, created.Secret, http.MethodPost, "/apps/300/events", nil, `{"name":"e","channel":"c","data":"1"}`); st != http.StatusOK {
		t.Fatalf("the created app with the printed secret: %d %s", st, resp)
	}
	var list struct {
		Apps []struct {
			ID, Key, Source string
			Disabled        bool
		}
	}
	out = appsCLI(t, s, "apps", "list", "--json")
	if err := json.Unmarshal([]byte(out), &list); err != nil || strings.Contains(out, created.Secret) {
		t.Fatalf("apps list --json: %v\n%s", err, out)
	}
	found := false
	for _, a := range list.Apps {
		found = found || (a.Key == key && a.ID == "300" && a.Source == "api" && !a.Disabled)
	}
	if !found || len(list.Apps) != 9 { // the 8 apps of the file and this one
		t.Fatalf("apps list --json: %s, want the file's 8 apps and %s", out, key)
	}
	out = appsCLI(t, s, "apps", "list")
	if !strings.Contains(out, "KEY") || !strings.Contains(out, key) || !strings.Contains(out, "app-key") {
		t.Fatalf("apps list (table):\n%s", out)
	}
	t.Logf("apps list:\n%s", out)
	out = appsCLI(t, s, "apps", "show", key)
	t.Logf("apps show:\n%s", out)
	if !strings.Contains(out, "max_connections") || !strings.Contains(out, `"5m0s"`) || strings.Contains(out, created.Secret) {
		t.Fatalf("apps show:\n%s", out)
	}
	if out := appsCLI(t, s, "apps", "update", key, "--set", "max_connections=9"); !strings.Contains(out, "updated app "+key) {
		t.Fatalf("apps update:\n%s", out)
	}

	var rotated struct{ Secret string }
	out = appsCLI(t, s, "apps", "rotate", key, "--json", "--grace", "0s")
	if err := json.Unmarshal([]byte(out), &rotated); err != nil || rotated.Secret == "" || rotated.Secret == created.Secret {
		t.Fatalf("apps rotate --json: %v\n%s", err, out)
	}
	body := `{"name":"e","channel":"c","data":"2"}`
	if st, _ := apiCall(t, s, key, created.Secret, http.MethodPost, "/apps/300/events", nil, body); st != http.StatusUnauthorized {
		t.Fatalf("the old secret after a rotation without grace: %d, want 401", st)
	}
	if st, resp := apiCall(t, s, key, rotated.Secret, http.MethodPost, "/apps/300/events", nil, body); st != http.StatusOK {
		t.Fatalf("the rotated secret: %d %s", st, resp)
	}

	if out := appsCLI(t, s, "apps", "delete", key); !strings.Contains(out, "deleted app "+key) {
		t.Fatalf("apps delete:\n%s", out)
	}
	if out := appsCLI(t, s, "apps", "list", "--json"); strings.Contains(out, key) {
		t.Fatalf("apps list after the delete still has %s:\n%s", key, out)
	}
	if st, _ := apiCall(t, s, key, rotated.Secret, http.MethodPost, "/apps/300/events", nil, body); st != http.StatusNotFound {
		t.Fatalf("the deleted app's API: %d, want 404", st)
	}
	// An error names the field and fails the command.
	cmd := exec.Command(pushdBin, "apps", "create", "--set", "max_connections=lots", "--server", s.APIURL(), "--token", adminToken)
	out2, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out2), "400") || !strings.Contains(string(out2), "field max_connections") {
		t.Fatalf("apps create with a bad value: %v\n%s", err, out2)
	}
}
