// Package api is Pushd's HTTP API, the door a backend uses: Pusher's signed
// REST endpoints (events, batch events, channels, users, terminate), the
// health and metrics endpoints, and the client files on the API port. It
// reads the app table, stores events through the broker and answers channel
// queries from presence; it never touches the sockets of a node.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/internal/loglimit"
	"github.com/pushd/pushd/metrics"
	"github.com/pushd/pushd/presence"
	"github.com/pushd/pushd/webhook"
)

// Broker stores events and carries control messages; *bus.Bus is the
// implementation.
type Broker interface {
	Publish(ctx context.Context, app string, evs ...bus.Outgoing) ([]uint64, error)
	Last(ctx context.Context, app, channel string) (bus.Stored, error)
	PublishControl(app, kind string, data []byte) error
	SubscribeControl(kind string, f func(app string, data []byte)) error
	Ready() error
	Healthy(ctx context.Context) error
	History
}

// Presence answers the cluster-wide channel queries; *presence.Tracker is
// the implementation.
type Presence interface {
	SubscriptionCount(app, channel string) int
	UserCount(app, channel string) int
	Members(app, channel string) []presence.Member
	Channels(app, prefix string) ([]string, map[string]int)
	UserStatus(app, channel, userID string) presence.UserStatus
	Healthy() error
}

// Deps are what the API is built on.
type Deps struct {
	// Node names this gateway in quota reports.
	Node     string
	Apps     *apps.Table
	Broker   Broker
	Presence Presence
	// DeadLetters serves the dead-letter API; nil: it answers 404.
	DeadLetters DeadLetters
	// WebhookState serves the webhook state snapshot; nil: it answers 404.
	WebhookState WebhookState
	// Draining tells that the node is shutting down (readyz answers 503);
	// nil: never.
	Draining func() bool
	// AuthFailuresPerSec limits failed authentications per remote address
	// (config api_auth_failures_per_second; 0: no limit).
	AuthFailuresPerSec int
	Metrics            *metrics.Metrics
	Logger             *slog.Logger
}

// storeTimeout bounds one store or read of the broker.
const storeTimeout = 10 * time.Second

// Server answers the HTTP API of one node.
type Server struct {
	node      string
	apps      *apps.Table
	broker    Broker
	presence  Presence
	dead      DeadLetters
	state     WebhookState
	draining  func() bool
	metrics   *metrics.Metrics
	log       *slog.Logger
	authFails *authFailures
	refusals  *loglimit.Limiter // refused calls logged per address
	// unreported are the apps whose API requests the next quota report
	// tells the other gateways of.
	unreported unreportedApps
}

// New builds the API and subscribes to the other gateways' quota reports.
func New(d Deps) (*Server, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Metrics == nil {
		d.Metrics = metrics.New()
	}
	if d.Draining == nil {
		d.Draining = func() bool { return false }
	}
	s := &Server{node: d.Node, apps: d.Apps, broker: d.Broker, presence: d.Presence, dead: d.DeadLetters, state: d.WebhookState, draining: d.Draining,
		metrics: d.Metrics, log: d.Logger, authFails: newAuthFailures(d.AuthFailuresPerSec),
		refusals: loglimit.New(loglimit.DefaultPerSource, loglimit.DefaultTotal)}
	if err := d.Broker.SubscribeControl(bus.ControlQuota, s.quotaReported); err != nil {
		return nil, err
	}
	return s, nil
}

// Register adds the API's endpoints to mux: the Pusher REST routes,
// /healthz, /readyz and /metrics.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("/apps/{app}/events", s.signed(http.MethodPost, s.events))
	mux.HandleFunc("/apps/{app}/batch_events", s.signed(http.MethodPost, s.batchEvents))
	mux.HandleFunc("/apps/{app}/channels", s.signed(http.MethodGet, s.channels))
	mux.HandleFunc("/apps/{app}/channels/{channel}", s.signed(http.MethodGet, s.channel))
	mux.HandleFunc("/apps/{app}/channels/{channel}/users", s.signed(http.MethodGet, s.users))
	mux.HandleFunc("/apps/{app}/channels/{channel}/events", s.signed(http.MethodGet, s.history))
	mux.HandleFunc("/apps/{app}/users/{user}/terminate_connections", s.signed(http.MethodPost, s.terminate))
	if s.dead != nil {
		mux.HandleFunc(webhook.PathFailed, s.signed(http.MethodGet, s.failedWebhooks))
		mux.HandleFunc(webhook.PathReplay, s.signed(http.MethodPost, s.replayWebhooks))
	}
	s.registerBackendState(mux)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("/readyz", s.readyz)
	mux.Handle("/metrics", s.metrics.Handler())
}

// Handler wraps mux (the API port's routes) so that each request's
// endpoint (the route pattern, never the raw path), status and duration are
// counted; a path no route takes gets static (the client files) or a JSON
// 404.
func (s *Server) Handler(mux, static *http.ServeMux) http.Handler {
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if static != nil {
			if h, pattern := static.Handler(r); pattern != "" {
				h.ServeHTTP(w, r)
				return
			}
		}
		writeError(w, http.StatusNotFound, "not found: "+r.URL.Path)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		mux.ServeHTTP(sw, r)
		endpoint := r.Pattern
		if endpoint == "" || endpoint == "/" {
			endpoint = "other"
		}
		s.metrics.HTTPRequests.WithLabelValues(endpoint, strconv.Itoa(sw.code)).Inc()
		s.metrics.HTTPDuration.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
	})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.draining() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	err := s.broker.Healthy(ctx)
	if err == nil {
		err = s.presence.Healthy()
	}
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// Flush lets streaming handlers (the console's event stream) flush.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
