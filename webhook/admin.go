package webhook

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
)

// Paths of the dead-letter API, under the HTTP API's /apps/{app}/.
const (
	PathFailed = "/apps/{app}/webhooks/failed"
	PathReplay = "/apps/{app}/webhooks/replay"
)

// signatureWindow is how far auth_timestamp may be from now, as for every
// API call (Pusher: 600 s).
const signatureWindow = 600 * time.Second

// Register adds the dead-letter API to mux: GET PathFailed lists an app's
// dead letters, POST PathReplay sends them again. Both are signed like
// every Pusher API call, with the app's key and secret, and take
// since (RFC 3339 or unix seconds) and limit in the query.
func (d *Dispatcher) Register(mux *http.ServeMux) {
	mux.HandleFunc(PathFailed, d.signed(http.MethodGet, d.serveFailed))
	mux.HandleFunc(PathReplay, d.signed(http.MethodPost, d.serveReplay))
}

// FailedAnswer is the body of GET PathFailed.
type FailedAnswer struct {
	Failed []DeadLetter `json:"failed"`
	More   bool         `json:"more"`
}

func (d *Dispatcher) serveFailed(w http.ResponseWriter, r *http.Request, app string, since time.Time, limit int) {
	list, more, err := d.Failed(r.Context(), app, since, limit)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, FailedAnswer{Failed: list, More: more})
}

func (d *Dispatcher) serveReplay(w http.ResponseWriter, r *http.Request, app string, since time.Time, limit int) {
	res, err := d.Replay(r.Context(), app, since, limit)
	switch {
	case errors.Is(err, ErrReplayRunning):
		writeError(w, http.StatusConflict, err.Error())
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, err.Error())
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

// defaultLimit is how many dead letters one call handles unless told.
const defaultLimit = 1000

type adminFunc func(w http.ResponseWriter, r *http.Request, app string, since time.Time, limit int)

// signed checks the method, the app (by auth_key, with the id rule of the
// rest of the API), the signature, and the query before calling f.
func (d *Dispatcher) signed(method string, f adminFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			writeError(w, http.StatusMethodNotAllowed, "use "+method)
			return
		}
		q := r.URL.Query()
		app, ok := d.opts.Apps(q.Get("auth_key"))
		if !ok {
			writeError(w, http.StatusUnauthorized, "unknown or missing auth_key")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			writeError(w, http.StatusBadRequest, "read body: "+err.Error())
			return
		}
		if err := protocol.VerifyRequest(app.Secret, r.Method, rawPath(r), q, body, time.Now(), signatureWindow); err != nil {
			writeError(w, http.StatusUnauthorized, err.Error())
			return
		}
		if app.ID != "" && r.PathValue("app") != app.ID && !app.Webman() {
			writeError(w, http.StatusNotFound, "unknown app id "+r.PathValue("app"))
			return
		}
		var since time.Time
		if s := q.Get("since"); s != "" {
			if since, err = ParseSince(s, time.Now()); err != nil {
				writeError(w, http.StatusBadRequest, err.Error())
				return
			}
		}
		limit := defaultLimit
		if s := q.Get("limit"); s != "" {
			if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > maxList {
				writeError(w, http.StatusBadRequest, "limit must be a number from 1 to "+strconv.Itoa(maxList))
				return
			}
		}
		f(w, r, app.Key, since, limit)
	}
}

// errSince explains the forms since takes.
var errSince = errors.New("since: give an RFC 3339 time (2006-01-02T15:04:05Z), unix seconds, or a duration back from now (90m)")

// ParseSince reads a since value: an RFC 3339 time, unix seconds, or a Go
// duration counted back from now.
func ParseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return time.Unix(n, 0), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, errSince
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
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
