package e2e

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
)

// apiCall sends a signed API request and returns status and body.
func apiCall(t *testing.T, s *server, key, secret, method, path string, params url.Values, body string) (int, string) {
	t.Helper()
	q := protocol.SignRequest(key, secret, method, path, params, []byte(body), time.Now())
	req, err := http.NewRequest(method, s.APIURL()+path+"?"+q.Encode(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// trigger posts an event and fails unless the API answers 200.
func trigger(t *testing.T, s *server, key, secret, path, body string) string {
	t.Helper()
	status, resp := apiCall(t, s, key, secret, http.MethodPost, path, nil, body)
	if status != http.StatusOK {
		t.Fatalf("POST %s: status %d %s, want 200", path, status, resp)
	}
	return resp
}
