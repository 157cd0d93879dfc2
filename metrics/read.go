package metrics

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Figures are an app's series as they stand: the console's graphs sample
// them once a second, so nothing is counted twice on a hot path.
type Figures struct {
	// Connections and Subscriptions are the gauges.
	Connections, Subscriptions float64
	// Received counts events accepted from the API and from clients;
	// Delivered the event frames queued to local sockets.
	Received, Delivered float64
}

// Figures reads the app's series.
func (a *App) Figures() Figures {
	var m dto.Metric
	return Figures{
		Connections:   value(a.Connections, &m),
		Subscriptions: value(a.Subscriptions, &m),
		Received:      value(a.APIEvents, &m) + value(a.Client, &m),
		Delivered:     value(a.Delivered, &m),
	}
}

// APIRequests returns the requests the Pusher HTTP API (the endpoints under
// /apps/) served so far, and how many of them were answered with an error
// status (4xx or 5xx).
func (m *Metrics) APIRequests() (total, failed float64) {
	ch := make(chan prometheus.Metric, 64)
	go func() {
		m.HTTPRequests.Collect(ch)
		close(ch)
	}()
	var d dto.Metric
	for c := range ch {
		d.Reset()
		if c.Write(&d) != nil {
			continue
		}
		var endpoint, code string
		for _, l := range d.GetLabel() {
			switch l.GetName() {
			case "endpoint":
				endpoint = l.GetValue()
			case "code":
				code = l.GetValue()
			}
		}
		if !strings.Contains(endpoint, "/apps/") {
			continue
		}
		v := d.GetCounter().GetValue()
		total += v
		if code >= "400" {
			failed += v
		}
	}
	return total, failed
}

// value reads a counter or a gauge into m (reused) and returns it.
func value(c prometheus.Metric, m *dto.Metric) float64 {
	m.Reset()
	if c.Write(m) != nil {
		return 0
	}
	if g := m.GetGauge(); g != nil {
		return g.GetValue()
	}
	return m.GetCounter().GetValue()
}
