// Package metrics defines Pushd's Prometheus metrics. Per-app series are
// resolved once per app (App), so hot paths only add to a counter.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every collector of one server.
type Metrics struct {
	reg *prometheus.Registry

	connections      *prometheus.GaugeVec
	connectionsTotal *prometheus.CounterVec
	subscriptions    *prometheus.GaugeVec
	channels         *prometheus.GaugeVec
	eventsIn         *prometheus.CounterVec
	delivered        *prometheus.CounterVec
	bytesIn          *prometheus.CounterVec
	bytesOut         *prometheus.CounterVec
	clientEvents     *prometheus.CounterVec
	rejected         *prometheus.CounterVec
	slowConsumers    *prometheus.CounterVec
	apiRemote        *prometheus.CounterVec
	resumes          *prometheus.CounterVec
	replayed         *prometheus.CounterVec

	// HTTPRequests counts API requests by endpoint and status code.
	HTTPRequests *prometheus.CounterVec
	// HTTPDuration observes API request durations by endpoint.
	HTTPDuration *prometheus.HistogramVec
	// Latency observes the time from an event's storage to its hand-off to
	// the local sockets.
	Latency prometheus.Histogram
}

// New registers Pushd's collectors (and the Go and process collectors) in a
// fresh registry.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	app := []string{"app"}
	m.connections = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pushd_connections", Help: "Open WebSocket connections."}, app)
	m.connectionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pushd_connections_opened_total", Help: "WebSocket connections accepted."}, app)
	m.subscriptions = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pushd_subscriptions", Help: "Channel subscriptions of local connections."}, app)
	m.channels = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pushd_channels", Help: "Channels with local subscribers."}, app)
	m.eventsIn = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pushd_events_received_total", Help: "Events accepted, by source (api, client)."}, []string{"app", "source"})
	m.delivered = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pushd_events_delivered_total", Help: "Event frames queued to local sockets."}, app)
	m.bytesIn = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pushd_websocket_received_bytes_total", Help: "Bytes of frames received from clients."}, app)
	m.bytesOut = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pushd_websocket_sent_bytes_total", Help: "Bytes of frames queued to clients."}, app)
	m.clientEvents = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pushd_client_events_total", Help: "Client events relayed."}, app)
	m.rejected = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pushd_rejected_total", Help: "Refused frames, subscriptions and connections, by reason."}, []string{"app", "reason"})
	m.slowConsumers = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pushd_slow_consumers_total", Help: "Connections closed because they did not read."}, app)
	m.apiRemote = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pushd_api_quota_remote_total", Help: "API requests other gateways reported against the app's api_requests_per_second."}, app)
	m.resumes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pushd_resumes_total", Help: "Resumed subscriptions, by result: window (answered from memory), stream, failed (recovery_failed)."}, []string{"app", "result"})
	m.replayed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pushd_replayed_events_total", Help: "Events sent to resuming subscribers."}, app)
	m.HTTPRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pushd_http_requests_total", Help: "HTTP API requests by endpoint and status code."}, []string{"endpoint", "code"})
	m.HTTPDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "pushd_http_request_duration_seconds", Help: "HTTP API request durations.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}}, []string{"endpoint"})
	m.Latency = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "pushd_delivery_latency_seconds", Help: "Time from an event's storage to its hand-off to local sockets.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}})
	m.reg.MustRegister(m.connections, m.connectionsTotal, m.subscriptions, m.channels, m.eventsIn, m.delivered,
		m.bytesIn, m.bytesOut, m.clientEvents, m.rejected, m.slowConsumers, m.apiRemote, m.resumes, m.replayed,
		m.HTTPRequests, m.HTTPDuration, m.Latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Gauge registers a gauge whose value f computes at scrape time.
func (m *Metrics) Gauge(name, help string, f func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// Counter registers a counter whose value f reads at scrape time.
func (m *Metrics) Counter(name, help string, f func() float64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
}

// Handler serves the exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// App is the series of one app, resolved once.
type App struct {
	Connections, Subscriptions, Channels  prometheus.Gauge
	ConnectionsOpened, APIEvents, Client  prometheus.Counter
	Delivered, BytesIn, BytesOut, Relayed prometheus.Counter
	SlowConsumers                         prometheus.Counter
	// APIRemote counts API requests other gateways charged to the quota.
	APIRemote prometheus.Counter
	// Resumes by result, and the events they sent.
	ResumesWindow, ResumesStream, ResumesFailed prometheus.Counter
	Replayed                                    prometheus.Counter
	rejected                                    *prometheus.CounterVec
	app                                         string
}

// ForApp returns the series of an app; nil Metrics gives series that are
// not registered anywhere (tests).
func (m *Metrics) ForApp(app string) *App {
	if m == nil {
		m = New()
	}
	return &App{
		Connections:       m.connections.WithLabelValues(app),
		Subscriptions:     m.subscriptions.WithLabelValues(app),
		Channels:          m.channels.WithLabelValues(app),
		ConnectionsOpened: m.connectionsTotal.WithLabelValues(app),
		APIEvents:         m.eventsIn.WithLabelValues(app, "api"),
		Client:            m.eventsIn.WithLabelValues(app, "client"),
		Delivered:         m.delivered.WithLabelValues(app),
		BytesIn:           m.bytesIn.WithLabelValues(app),
		BytesOut:          m.bytesOut.WithLabelValues(app),
		Relayed:           m.clientEvents.WithLabelValues(app),
		SlowConsumers:     m.slowConsumers.WithLabelValues(app),
		APIRemote:         m.apiRemote.WithLabelValues(app),
		ResumesWindow:     m.resumes.WithLabelValues(app, "window"),
		ResumesStream:     m.resumes.WithLabelValues(app, "stream"),
		ResumesFailed:     m.resumes.WithLabelValues(app, "failed"),
		Replayed:          m.replayed.WithLabelValues(app),
		rejected:          m.rejected,
		app:               app,
	}
}

// Reject counts a refusal for a reason (auth, quota, rate, invalid, ...).
func (a *App) Reject(reason string) { a.rejected.WithLabelValues(a.app, reason).Inc() }

// Since observes the time since t in h, for durations measured in code.
func Since(h prometheus.Observer, t time.Time) { h.Observe(time.Since(t).Seconds()) }

// ForgetApp removes every series of an app (it was deleted), so apps that
// come and go do not pile up series; an app created again starts afresh.
func (m *Metrics) ForgetApp(app string) {
	l := prometheus.Labels{"app": app}
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{
		m.connections, m.connectionsTotal, m.subscriptions, m.channels, m.eventsIn, m.delivered, m.bytesIn, m.bytesOut,
		m.clientEvents, m.rejected, m.slowConsumers, m.apiRemote, m.resumes, m.replayed,
	} {
		v.DeletePartialMatch(l)
	}
}
