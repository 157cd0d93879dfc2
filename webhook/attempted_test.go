package webhook

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushd/pushd/config"
)

// TestAttemptedTellsEveryAttempt: Options.Attempted hears of each attempt
// at a batch (the console's feed of webhooks): the failed one with its
// reason, then the delivered one, both with the batch's delivery id and
// events.
func TestAttemptedTellsEveryAttempt(t *testing.T) {
	js := startNATS(t)()
	rcv := newReceiver(t, testKey, testSecret)
	rcv.status = func(n int) int {
		if n == 1 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}
	app := config.App{Key: testKey, Secret: testSecret, WebhookURL: rcv.srv.URL}
	opts := testOptions(t, apps(app), nil)
	var mu sync.Mutex
	var seen []Attempt
	opts.Attempted = func(key string, a Attempt) {
		if key != testKey {
			t.Errorf("attempt for app %q, want %q", key, testKey)
		}
		mu.Lock()
		seen = append(seen, a)
		mu.Unlock()
	}
	d := newDispatcher(t, js, opts)
	enqueue(t, d, testKey, Event{Name: ClientEvent, Channel: "private-c", Event: "client-e", Data: "1", SocketID: "1.1"}, "")
	run(t, d)
	waitFor(t, 10*time.Second, "two attempts told", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == 2
	})
	mu.Lock()
	defer mu.Unlock()
	first, second := seen[0], seen[1]
	if !strings.Contains(first.Error, "503") || second.Error != "" {
		t.Fatalf("attempts' errors: %q then %q, want the 503 then none", first.Error, second.Error)
	}
	if first.Delivery == "" || first.Delivery != second.Delivery || first.Endpoint != second.Endpoint || len(second.Events) != 1 ||
		!strings.Contains(string(second.Events[0]), `"client-e"`) {
		t.Fatalf("attempts %+v and %+v: want one delivery id, one endpoint, the batch's event", first, second)
	}
}
