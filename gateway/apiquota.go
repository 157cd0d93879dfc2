package gateway

import (
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// The API quota (api_requests_per_second) is cluster-wide without a NATS
// round trip per request: each gateway keeps a token bucket per app, lets a
// request through on its own bucket, and every quotaReportInterval tells the
// other gateways how many it let through (core NATS, one message per app
// that had requests). Each gateway takes those from its own bucket, so all
// buckets follow the cluster's use. What several gateways let through
// within one interval, before hearing of each other, can exceed the quota:
// at most one interval's worth of refill per gateway.
const (
	quotaReportInterval = 100 * time.Millisecond
	controlQuota        = "quota"
)

// countAPIRequest notes a request let through on a's quota for the next
// report.
func (g *Gateway) countAPIRequest(a *app) {
	if a.APIRequestsPerSec > 0 {
		a.rt.apiUnreported.Add(1)
	}
}

// reportQuota tells the other gateways what this node let through since the
// last report: "{node} {count}" on the app's quota control subject.
func (g *Gateway) reportQuota() {
	for key, a := range *g.apps.Load() {
		n := a.rt.apiUnreported.Swap(0)
		if n == 0 {
			continue
		}
		msg := g.node + " " + strconv.FormatInt(n, 10)
		if err := g.broker.PublishControl(key, controlQuota, []byte(msg)); err != nil {
			a.rt.apiUnreported.Add(n) // told next time
			g.log.Debug("api quota report", slog.String("app", key), slog.Any("err", err))
		}
	}
}

// quotaReported charges another gateway's requests to the app's bucket.
func (g *Gateway) quotaReported(appKey string, data []byte) {
	node, count, ok := strings.Cut(string(data), " ")
	if !ok || node == g.node {
		return
	}
	n, err := strconv.Atoi(count)
	a := g.app(appKey)
	if err != nil || n <= 0 || a == nil {
		return
	}
	a.rt.api.Charge(time.Now(), a.APIRequestsPerSec, n)
	a.rt.m.APIRemote.Add(float64(n))
}
