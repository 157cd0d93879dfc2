package api

import (
	"slices"
	"strconv"
	"testing"

	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/apps"
)

// The quota report visits the apps that had requests since the last one,
// each once, not every app.
func TestUnreportedAppsAreTheOnesWithRequests(t *testing.T) {
	s := &Server{apps: apps.NewTable([]config.App{{Key: "a", Secret: "s"}, {Key: "b", Secret: "s"}, {Key: "c", Secret: "s"}}, nil)}
	for _, k := range []string{"a", "c", "a", "a"} {
		s.countRequest(s.apps.Get(k))
	}
	got := s.unreported.take()
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "c"}) {
		t.Fatalf("apps to report %v, want [a c]", got)
	}
	if n := s.apps.Get("a").APIUnreported.Load(); n != 3 {
		t.Fatalf("a's unreported requests %d, want 3", n)
	}
	// Until the report sets a's count back to 0, more requests add nothing.
	s.countRequest(s.apps.Get("a"))
	if got := s.unreported.take(); len(got) != 0 {
		t.Fatalf("apps to report %v before a's count was reported, want none", got)
	}
	s.apps.Get("a").APIUnreported.Swap(0)
	s.countRequest(s.apps.Get("a"))
	if got := s.unreported.take(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("after the report: %v, want [a]", got)
	}
}

// BenchmarkReportQuotaIdle is a quota report with 1 and 10,000 apps and no
// requests since the last one (it runs every 100 ms).
func BenchmarkReportQuotaIdle(b *testing.B) {
	for _, n := range []int{1, 10000} {
		b.Run(strconv.Itoa(n)+"apps", func(b *testing.B) {
			list := make([]config.App, n)
			for i := range list {
				list[i] = config.App{Key: "app-" + strconv.Itoa(i), Secret: "s"}
			}
			s := &Server{apps: apps.NewTable(list, nil)}
			for b.Loop() {
				s.reportQuota()
			}
		})
	}
}
