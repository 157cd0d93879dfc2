package webhook

import (
	"slices"

	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/protocol"
)

// NamesWebman selects webman/push's webhook names and URLs for an app.
const NamesWebman = config.CompatWebman

// webmanNames maps the Pusher names webman/push reports to its own names.
var webmanNames = map[string]string{
	ChannelOccupied: "channel_added",
	ChannelVacated:  "channel_removed",
	MemberAdded:     "user_added",
	MemberRemoved:   "user_removed",
}

// webmanEvent is an event object in webman/push's shape.
type webmanEvent struct {
	Channel string `json:"channel"`
	UserID  any    `json:"user_id,omitempty"` // a string, or in webman mode typed as webman/push types it
	Name    string `json:"name"`
}

// route decides where an event goes for an app and in which shape: the URL
// and the object to encode. ok is false when the app does not want the event
// (filtered, not in its naming scheme, or no URL for it).
func route(app config.App, ev Event) (url string, out any, ok bool) {
	if app.WebmanWebhooks() {
		name, known := webmanNames[ev.Name]
		if !known || !Wanted(app.WebhookEvents, ev.Name) {
			return "", nil, false
		}
		url = app.WebhookURL
		obj := webmanEvent{Channel: ev.Channel, Name: name}
		switch ev.Name {
		case ChannelOccupied, ChannelVacated:
			if app.ChannelHookURL != "" {
				url = app.ChannelHookURL
			}
		default:
			obj.UserID = ev.UserID
			if app.Webman() {
				obj.UserID = protocol.WebmanUserID(ev.UserID)
			}
			if app.UserHookURL != "" {
				url = app.UserHookURL
			}
		}
		return url, obj, url != ""
	}
	if app.WebhookURL == "" || !Wanted(app.WebhookEvents, ev.Name) {
		return "", nil, false
	}
	return app.WebhookURL, ev, true
}

// Wanted applies an app's webhook_events filter to the event with Pusher
// name pusherName: an empty filter takes everything, else the filter must
// list the Pusher name or webman/push's name of the event, whichever naming
// the app's webhooks carry.
func Wanted(filter []string, pusherName string) bool {
	if len(filter) == 0 || slices.Contains(filter, pusherName) {
		return true
	}
	alias, ok := webmanNames[pusherName]
	return ok && slices.Contains(filter, alias)
}

// opposite pairs the state events that undo each other.
var opposite = map[string]string{
	ChannelOccupied: ChannelVacated,
	ChannelVacated:  ChannelOccupied,
	MemberAdded:     MemberRemoved,
	MemberRemoved:   MemberAdded,
}

// recordsOnly tells whether an event the app does not want must still be
// settled against the reported state: it is a state event whose opposite
// the app does want.
func recordsOnly(app config.App, ev Event) bool {
	name, ok := opposite[ev.Name]
	if !ok {
		return false
	}
	ev.Name = name
	_, _, wanted := route(app, ev)
	return wanted
}
