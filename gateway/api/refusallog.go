package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
)

// refusalRecorder keeps the status of a signed call's answer and, when it
// is a refusal, the start of its body ({"error": reason}) for the log.
type refusalRecorder struct {
	http.ResponseWriter
	status int
	body   []byte
}

// maxLoggedBody bounds the answer kept for the refusal line.
const maxLoggedBody = 512

func (w *refusalRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *refusalRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.status >= 400 && len(w.body) < maxLoggedBody {
		w.body = append(w.body, b[:min(len(b), maxLoggedBody-len(w.body))]...)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *refusalRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRefusal writes one line for a signed call answered with a 4xx (401 a
// bad key or signature, 413 a body or event over the app's limits, 429 a
// quota…), limited per remote address and per node. It names the app key
// the call gave, the remote address, the endpoint, the channel, the status
// and the reason the caller got: never the query (it holds the
// signature), nor a body.
func (s *Server) logRefusal(r *http.Request, rec *refusalRecorder) {
	if rec.status < 400 || rec.status >= 500 {
		return
	}
	var answer struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(rec.body, &answer)
	attrs := []slog.Attr{slog.String("app", truncate(r.URL.Query().Get("auth_key"), 64)), slog.String("remote", r.RemoteAddr),
		slog.String("method", r.Method), slog.String("endpoint", r.Pattern), slog.Int("status", rec.status), slog.String("reason", truncate(answer.Error, 300))}
	if ch := r.PathValue("channel"); ch != "" {
		attrs = append(attrs, slog.String("channel", truncate(ch, 200)))
	}
	if f := r.Header.Get("X-Forwarded-For"); f != "" {
		attrs = append(attrs, slog.String("forwarded_for", truncate(f, 200)))
	}
	s.refusals.Log(r.Context(), s.log, slog.LevelInfo, remoteHost(r), "api request refused", attrs...)
}
