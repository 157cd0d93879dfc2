package api

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/pushd/pushd/bus"
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
// last report: "{node} {count}" on the app's quota control subject.
func (s *Server) reportQuota() {
	for key, a := range s.apps.All() {
		n := a.APIUnreported.Swap(0)
		if n == 0 {
			continue
		}
		msg := s.node + " " + strconv.FormatInt(n, 10)
		if err := s.broker.PublishControl(key, bus.ControlQuota, []byte(msg)); err != nil {
			a.APIUnreported.Add(n) // told next time
			s.log.Debug("api quota report", slog.String("app", key), slog.Any("err", err))
		}
	}
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
