package webhook

import (
	"errors"
	"strconv"
	"time"
)

// Paths of the dead-letter API (served by gateway/api), under the HTTP
// API's /apps/{app}/.
const (
	PathFailed = "/apps/{app}/webhooks/failed"
	PathReplay = "/apps/{app}/webhooks/replay"
)

// Limits of one dead-letter API call.
const (
	// DefaultLimit is how many dead letters one call handles unless told.
	DefaultLimit = 1000
	// MaxLimit is the most one call handles.
	MaxLimit = maxList
)

// FailedAnswer is the body of GET PathFailed.
type FailedAnswer struct {
	Failed []DeadLetter `json:"failed"`
	More   bool         `json:"more"`
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
