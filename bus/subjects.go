package bus

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Subject scheme (every user-supplied part goes through EncodeToken):
//
//	pushd.{app}.ev.{channel}   events, stored in the app's stream
//	pushd.{app}.out.{channel}  the stream's RePublish of each stored event
//	pushd.{app}.ctl.{kind}     control messages between nodes (core NATS)
const subjectRoot = "pushd"

func eventSubject(appTok, chTok string) string { return subjectRoot + "." + appTok + ".ev." + chTok }
func outSubject(appTok, chTok string) string   { return subjectRoot + "." + appTok + ".out." + chTok }
func controlSubject(appTok, kind string) string {
	return subjectRoot + "." + appTok + ".ctl." + kind
}

// Control message kinds (pushd.{app}.ctl.{kind}).
const (
	// ControlTerminate carries a user id whose connections every gateway
	// closes (POST /apps/{id}/users/{user}/terminate_connections).
	ControlTerminate = "terminate"
	// ControlQuota carries "{node} {count}": API requests a gateway let
	// through on the app's cluster-wide quota since its last report.
	ControlQuota = "quota"
	// ControlWatchlist carries a WatchlistControl: every gateway replaces
	// the watchlist of the user's signed-in connections
	// (PUT /apps/{id}/users/{user}/watchlist).
	ControlWatchlist = "watchlist"
	// ControlStats carries one node's figures of the last second
	// (stats.Sample, JSON), sent by every node once a second under the
	// app "" for the console's graphs.
	ControlStats = "stats"
	// ControlWatch says that a console watches the app's feed: for the
	// next WatchFor, gateways send its feed entries (ControlFeed).
	ControlWatch = "watch"
	// ControlFeed carries one entry of the app's feed for the consoles
	// watching it, a JSON object with a "type": a connection opened or
	// closed on some gateway, a webhook batch sent.
	ControlFeed = "feed"
	// ControlDisconnect carries a socket id that the gateway holding it
	// closes (the console's disconnect button).
	ControlDisconnect = "disconnect"
)

// WatchFor is how long a ControlWatch keeps gateways sending an app's feed;
// a console repeats it well within that while it watches.
const WatchFor = 15 * time.Second

// WatchlistControl is the JSON of a ControlWatchlist message.
type WatchlistControl struct {
	UserID    string   `json:"user_id"`
	Watchlist []string `json:"watchlist"`
}

// streamName is the JetStream stream that stores one app's events.
func streamName(appTok string) string { return "PUSHD_" + appTok }

// splitOut parses "pushd.{app}.out.{channel}" into its decoded parts.
func splitOut(subject string) (app, channel string, ok bool) {
	// Cut, not Split: this runs for every event a node receives.
	root, rest, _ := strings.Cut(subject, ".")
	appTok, rest, _ := strings.Cut(rest, ".")
	out, chTok, _ := strings.Cut(rest, ".")
	if root != subjectRoot || out != "out" || appTok == "" || chTok == "" || strings.Contains(chTok, ".") {
		return "", "", false
	}
	a, err1 := DecodeToken(appTok)
	c, err2 := DecodeToken(chTok)
	return a, c, err1 == nil && err2 == nil
}

// MaxSubject is the longest subject pushd sends: NATS's default
// max_control_line (4096 bytes, the longest protocol line a server takes
// from a client; a longer one closes the connection for good) less room for
// the rest of the line (verb, reply inbox, sizes).
const MaxSubject = 4096 - 128

// ErrSubjectTooLong reports a channel or key whose NATS subject would be
// longer than MaxSubject. It is refused before it reaches the connection.
var ErrSubjectTooLong = errors.New("bus: NATS subject too long")

// directGetPrefix starts JetStream's direct read of a stream's last message
// on a subject: "$JS.API.DIRECT.GET.{stream}.{subject}".
const directGetPrefix = "$JS.API.DIRECT.GET."

// checkChannel refuses a channel whose longest subject, the direct read of
// its last event (which names the app twice), would not fit.
func checkChannel(appTok, chTok, channel string) error {
	n := len(directGetPrefix) + len(streamName(appTok)) + 1 + len(eventSubject(appTok, chTok))
	if n > MaxSubject {
		return fmt.Errorf("%w: channel %.40q... needs %d bytes, NATS takes %d", ErrSubjectTooLong, channel, n, MaxSubject)
	}
	return nil
}

// CheckKey refuses a KV key of bucket whose longest subject, the direct read
// "$JS.API.DIRECT.GET.KV_{bucket}.$KV.{bucket}.{key}", would not fit.
func CheckKey(bucket, key string) error {
	n := len(directGetPrefix) + len("KV_") + len(bucket) + len(".$KV.") + len(bucket) + 1 + len(key)
	if n > MaxSubject {
		return fmt.Errorf("%w: key %.40q... of %s needs %d bytes, NATS takes %d", ErrSubjectTooLong, key, bucket, n, MaxSubject)
	}
	return nil
}
