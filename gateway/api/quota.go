package api

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/internal/every"
)

// The API quota (api_requests_per_second) is cluster-wide without a NATS
// round trip per request: each gateway keeps a token bucket per app, lets a
// request through on its own bucket, and every quotaReportInterval tells the
// other gateways how many it let through (core NATS, one message per app
// that had requests). Each gateway takes those from its own bucket, so all
// buckets follow the cluster's use. What several gateways let through
// within one interval, before hearing of each other, can exceed the quota:
// at most one interval's worth of refill per gateway.
const quotaReportInterval = 100 * time.Millisecond

// Run reports this node's use of the API quotas to the other gateways
// every quotaReportInterval until ctx ends.
func (s *Server) Run(ctx context.Context) {
	every.Tick(ctx, quotaReportInterval, func(time.Time) { s.reportQuota() })
}

// reportQuota tells the other gateways what this node let through since the
// last report: "{node} {count}" on the app's quota control subject. It
// visits only the apps that had requests (unreported), not every app.
func (s *Server) reportQuota() {
	for _, key := range s.unreported.take() {
		a := s.apps.Get(key)
		if a == nil {
			continue // deleted meanwhile
		}
		n := a.APIUnreported.Swap(0)
		if n == 0 {
			continue
		}
		msg := s.node + " " + strconv.FormatInt(n, 10)
		if err := s.broker.PublishControl(key, bus.ControlQuota, []byte(msg)); err != nil {
			a.APIUnreported.Add(n) // told next time
			s.unreported.add(key)
			s.log.Debug("api quota report", slog.String("app", key), slog.Any("err", err))
		}
	}
}

// countRequest records a request let through on the app's quota, to be
// reported to the other gateways.
func (s *Server) countRequest(a *apps.App) {
	if a.APIUnreported.Add(1) == 1 {
		s.unreported.add(a.Key) // the first since the last report
	}
}

// unreportedApps are the keys of the apps with requests not yet reported.
// An app is added when its count leaves 0 and taken by the next report,
// which sets the count back to 0, so a report costs the apps that had
// requests, however many apps there are.
type unreportedApps struct {
	mu   sync.Mutex
	keys []string
}

func (u *unreportedApps) add(key string) {
	u.mu.Lock()
	u.keys = append(u.keys, key)
	u.mu.Unlock()
}

func (u *unreportedApps) take() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	keys := u.keys
	u.keys = nil
	return keys
}

// quotaReported charges another gateway's requests to the app's bucket.
func (s *Server) quotaReported(appKey string, data []byte) {
	node, count, ok := strings.Cut(string(data), " ")
	if !ok || node == s.node {
		return
	}
	n, err := strconv.Atoi(count)
	a := s.apps.Get(appKey)
	if err != nil || n <= 0 || a == nil {
		return
	}
	a.API.Charge(time.Now(), a.APIRequestsPerSec, n)
	a.Metrics.APIRemote.Add(float64(n))
}
