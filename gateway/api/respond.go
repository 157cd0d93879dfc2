package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
)

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

// WriteError answers with {"error": msg}; it never includes secrets.
func WriteError(w http.ResponseWriter, status int, msg string) { writeError(w, status, msg) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write response", slog.Any("err", err))
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// Error is a request problem with its HTTP status.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func badRequest(msg string) *Error { return &Error{http.StatusBadRequest, msg} }

// WriteErr answers with err's status (an *Error) or 500.
func WriteErr(w http.ResponseWriter, err error) {
	var ae *Error
	if errors.As(err, &ae) {
		writeError(w, ae.Status, ae.Msg)
		return
	}
	writeError(w, http.StatusInternalServerError, err.Error())
}

// decodeStrict reads one JSON value from body into v; anything but white
// space after it is an error.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return badRequest("invalid JSON body: " + err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("invalid JSON body: data after the JSON value")
	}
	return nil
}
