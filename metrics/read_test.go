package metrics

import "testing"

// TestFigures: an app's figures are what its series hold, events received
// from the API and from clients together.
func TestFigures(t *testing.T) {
	m := New()
	a := m.ForApp("k")
	a.Connections.Add(3)
	a.Subscriptions.Add(5)
	a.APIEvents.Add(2)
	a.Client.Add(4)
	a.Delivered.Add(11)
	if got, want := a.Figures(), (Figures{Connections: 3, Subscriptions: 5, Received: 6, Delivered: 11}); got != want {
		t.Fatalf("figures: got %+v, want %+v", got, want)
	}
	if got := m.ForApp("other").Figures(); got != (Figures{}) {
		t.Fatalf("another app's figures: got %+v, want zeros", got)
	}
}

// TestAPIRequests: the Pusher API's requests are counted with their
// failures (4xx, 5xx); the console's, the admin API's and /metrics are not.
func TestAPIRequests(t *testing.T) {
	m := New()
	for _, r := range []struct {
		endpoint, code string
		n              float64
	}{
		{"/apps/{app}/events", "200", 7},
		{"/apps/{app}/events", "401", 2},
		{"/apps/{app}/channels", "500", 1},
		{"GET /console/api/stats", "200", 50},
		{"/admin/apps", "403", 3},
		{"/metrics", "200", 9},
	} {
		m.HTTPRequests.WithLabelValues(r.endpoint, r.code).Add(r.n)
	}
	if total, failed := m.APIRequests(); total != 10 || failed != 3 {
		t.Fatalf("API requests: got %v (%v failed), want 10 (3 failed)", total, failed)
	}
}
