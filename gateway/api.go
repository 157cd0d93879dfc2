package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/internal/ratelimit"
)

// signatureWindow is how far auth_timestamp may be from now (Pusher: 600 s).
const signatureWindow = 600 * time.Second

// APIHandler returns the HTTP API: Pusher's REST endpoints plus /readyz,
// /healthz and /metrics, counted and timed per endpoint.
func (g *Gateway) APIHandler() http.Handler {
	return g.instrument(g.apiMux())
}

// instrument records each request's endpoint (the route pattern, never the
// raw path), status and duration.
func (g *Gateway) instrument(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		mux.ServeHTTP(sw, r)
		endpoint := r.Pattern
		if endpoint == "" || endpoint == "/" {
			endpoint = "other"
		}
		g.metrics.HTTPRequests.WithLabelValues(endpoint, strconv.Itoa(sw.code)).Inc()
		g.metrics.HTTPDuration.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
	})
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

func (g *Gateway) apiMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/apps/{app}/events", g.signed(http.MethodPost, g.apiEvents))
	mux.HandleFunc("/apps/{app}/batch_events", g.signed(http.MethodPost, g.apiBatchEvents))
	mux.HandleFunc("/apps/{app}/channels", g.signed(http.MethodGet, g.apiChannels))
	mux.HandleFunc("/apps/{app}/channels/{channel}", g.signed(http.MethodGet, g.apiChannel))
	mux.HandleFunc("/apps/{app}/channels/{channel}/users", g.signed(http.MethodGet, g.apiUsers))
	mux.HandleFunc("/apps/{app}/users/{user}/terminate_connections", g.signed(http.MethodPost, g.apiTerminate))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("/readyz", g.readyz)
	mux.Handle("/metrics", g.metrics.Handler())
	g.registerConsole(mux)
	mux.HandleFunc("/", g.serveStatic)
	return mux
}

func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) {
	if g.drain.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	err := g.broker.Healthy(ctx)
	if err == nil {
		err = g.presence.Healthy()
	}
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// serveStatic serves the client libraries, or a JSON 404.
func (g *Gateway) serveStatic(w http.ResponseWriter, r *http.Request) {
	if g.static != nil {
		if h, pattern := g.static.Handler(r); pattern != "" {
			h.ServeHTTP(w, r)
			return
		}
	}
	writeError(w, http.StatusNotFound, "not found: "+r.URL.Path)
}

// apiRequest is a verified API call.
type apiRequest struct {
	app  *app
	body []byte
	r    *http.Request
}

type apiFunc func(w http.ResponseWriter, req apiRequest)

// signed checks method, body size, app and signature before calling f.
func (g *Gateway) signed(method string, f apiFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			writeError(w, http.StatusMethodNotAllowed, "use "+method)
			return
		}
		now := time.Now()
		addr := remoteHost(r)
		q := r.URL.Query()
		a := g.app(q.Get("auth_key"))
		if a == nil {
			g.refuseAuth(w, addr, now, "unknown or missing auth_key")
			return
		}
		limit := int64(a.MaxBatchEvents*(a.MaxEventBytes+1024)) + int64(a.MaxChannelsPerEvent*(a.MaxChannelNameLength+8)) + 64<<10
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeError(w, http.StatusRequestEntityTooLarge, "request body is larger than the app allows")
				return
			}
			writeError(w, http.StatusBadRequest, "read body: "+err.Error())
			return
		}
		if err := protocol.VerifyRequest(a.Secret, r.Method, rawPath(r), q, body, now, signatureWindow); err != nil {
			g.refuseAuth(w, addr, now, err.Error())
			return
		}
		// The app's quota is charged only once the request is proven to
		// be the app's: its public key alone cannot use it up.
		if qt := a.rt.api.Take(now, a.APIRequestsPerSec); a.APIRequestsPerSec > 0 {
			setRateHeaders(w.Header(), a.APIRequestsPerSec, qt)
			if !qt.OK {
				a.rt.m.Reject("api_rate")
				w.Header().Set("Retry-After", retryAfter(qt.Retry))
				writeError(w, http.StatusTooManyRequests, "too many API requests for this app, retry later")
				return
			}
			g.countAPIRequest(a)
		}
		// webman/push's Api always calls /apps/1024/: in webman mode the
		// app is the auth_key's, whatever the id.
		if a.ID != "" && r.PathValue("app") != a.ID && !a.Webman() {
			writeError(w, http.StatusNotFound, "unknown app id "+r.PathValue("app"))
			return
		}
		if a.Disabled {
			writeError(w, http.StatusForbidden, "application is disabled")
			return
		}
		f(w, apiRequest{app: a, body: body, r: r})
	}
}

// refuseAuth answers a request that failed authentication: 401 with the
// reason, or 429 once its address has failed more often than
// api_auth_failures_per_second allows. The signature is checked before the
// address's bucket, so a correctly signed request is never refused for
// another caller's failures behind the same address (a NAT, a proxy).
func (g *Gateway) refuseAuth(w http.ResponseWriter, addr string, now time.Time, reason string) {
	if blocked, wait := g.authFails.fail(addr, now); blocked {
		w.Header().Set("Retry-After", retryAfter(wait))
		writeError(w, http.StatusTooManyRequests, "too many failed API authentications from this address, retry later")
		return
	}
	writeError(w, http.StatusUnauthorized, reason)
}

// setRateHeaders tells the caller its quota: requests a second (the burst),
// whole requests left, and seconds until the bucket is full again.
func setRateHeaders(h http.Header, rate int, q ratelimit.Quota) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(rate))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(q.Remaining))
	h.Set("X-RateLimit-Reset", strconv.Itoa(int(math.Ceil(q.Reset.Seconds()))))
}

// retryAfter is a Retry-After value in whole seconds, at least 1.
func retryAfter(wait time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
}

// rawPath is the path exactly as the client sent (and signed) it.
func rawPath(r *http.Request) string {
	p := r.RequestURI
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if p == "" || p[0] != '/' {
		return r.URL.Path
	}
	return p
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write response", slog.Any("err", err))
	}
}

// writeError answers with {"error": msg}; it never includes secrets.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// apiError is a request problem with its HTTP status.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(msg string) *apiError { return &apiError{http.StatusBadRequest, msg} }

func writeAPIError(w http.ResponseWriter, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		writeError(w, ae.status, ae.msg)
		return
	}
	writeError(w, http.StatusInternalServerError, err.Error())
}
