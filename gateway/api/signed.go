package api

import (
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/internal/ratelimit"
)

// signatureWindow is how far auth_timestamp may be from now (Pusher: 600 s).
const signatureWindow = 600 * time.Second

// request is a verified API call.
type request struct {
	app  *apps.App
	body []byte
	r    *http.Request
}

type handlerFunc func(w http.ResponseWriter, req request)

// signed checks method, body size, app and signature, then the app's quota,
// before calling f.
func (s *Server) signed(method string, f handlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		w := &refusalRecorder{ResponseWriter: rw}
		defer s.logRefusal(r, w)
		if r.Method != method {
			w.Header().Set("Allow", method)
			writeError(w, http.StatusMethodNotAllowed, "use "+method)
			return
		}
		now := time.Now()
		addr := remoteHost(r)
		q := r.URL.Query()
		a := s.apps.Get(q.Get("auth_key"))
		if a == nil && s.apps.Deleted(q.Get("auth_key")) {
			writeError(w, http.StatusNotFound, "application deleted: no app has this auth_key any more")
			return
		}
		if a == nil {
			s.refuseAuth(w, addr, now, "unknown or missing auth_key")
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
		if err := a.Verify(now, func(secret string) error {
			return protocol.VerifyRequest(secret, r.Method, rawPath(r), q, body, now, signatureWindow)
		}); err != nil {
			s.refuseAuth(w, addr, now, err.Error())
			return
		}
		// The app's quota is charged only once the request is proven to
		// be the app's: its public key alone cannot use it up.
		if qt := a.API.Take(now, a.APIRequestsPerSec); a.APIRequestsPerSec > 0 {
			setRateHeaders(w.Header(), a.APIRequestsPerSec, qt)
			if !qt.OK {
				a.Metrics.Reject("api_rate")
				w.Header().Set("Retry-After", retryAfter(qt.Retry))
				writeError(w, http.StatusTooManyRequests, "too many API requests for this app, retry later")
				return
			}
			s.countRequest(a)
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
		f(w, request{app: a, body: body, r: r})
	}
}

// refuseAuth answers a request that failed authentication: 401 with the
// reason, or 429 once its address has failed more often than
// api_auth_failures_per_second allows. The signature is checked before the
// address's bucket, so a correctly signed request is never refused for
// another caller's failures behind the same address (a NAT, a proxy).
func (s *Server) refuseAuth(w http.ResponseWriter, addr string, now time.Time, reason string) {
	if blocked, wait := s.authFails.fail(addr, now); blocked {
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
