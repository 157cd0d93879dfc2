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

// Kinds of events, for the shorthand endpoints of webman naming that split
// channel and user events between channel_hook and user_hook.
const (
	kindChannel = 1 << iota // channel_occupied, channel_vacated
	kindMember              // member_added, member_removed
	kindOther               // client_event, cache_miss, subscription_count
	kindAll     = kindChannel | kindMember | kindOther
)

func kindOf(name string) int {
	switch name {
	case ChannelOccupied, ChannelVacated:
		return kindChannel
	case MemberAdded, MemberRemoved:
		return kindMember
	}
	return kindOther
}

// endpoint is one destination of an app's webhooks: an HTTP URL or a NATS
// subject, with its filter, headers and naming. Each has its own sequence.
type endpoint struct {
	name    string
	url     string // HTTP receiver, or
	subject string // NATS sink subject
	filter  []string
	headers map[string]string
	webman  bool // webman/push's names and shape
	kinds   int  // the kinds of events it takes at all
}

// numEndpoints and endpointAt enumerate an app's endpoints without
// allocating (Report asks on the sockets' read loops): first the shorthand
// ones, then the app's webhooks list. The shorthand settings are one
// endpoint webhook_url in Pusher naming; in webman naming channel_hook
// takes the channel events and user_hook the user events, and webhook_url
// whatever they leave.
func numEndpoints(app *config.App) int { return len(shorthand(app)) + len(app.Webhooks) }

// shorthand lists which shorthand endpoints an app has, in order.
func shorthand(app *config.App) []string {
	if app.WebmanWebhooks() {
		switch {
		case app.ChannelHookURL != "" && app.UserHookURL != "" && app.WebhookURL != "":
			return allShorthand
		case app.ChannelHookURL != "" && app.UserHookURL != "":
			return shorthandCU
		case app.ChannelHookURL != "" && app.WebhookURL != "":
			return shorthandCW
		case app.UserHookURL != "" && app.WebhookURL != "":
			return shorthandUW
		case app.ChannelHookURL != "":
			return allShorthand[:1]
		case app.UserHookURL != "":
			return allShorthand[1:2]
		}
	}
	if app.WebhookURL != "" {
		return allShorthand[2:]
	}
	return nil
}

var (
	allShorthand = []string{config.EndpointChannelHook, config.EndpointUserHook, config.EndpointWebhookURL}
	shorthandCU  = []string{config.EndpointChannelHook, config.EndpointUserHook}
	shorthandCW  = []string{config.EndpointChannelHook, config.EndpointWebhookURL}
	shorthandUW  = []string{config.EndpointUserHook, config.EndpointWebhookURL}
)

// endpointAt returns the app's i-th endpoint (0 <= i < numEndpoints).
func endpointAt(app *config.App, i int) endpoint {
	short := shorthand(app)
	if i >= len(short) {
		w := &app.Webhooks[i-len(short)]
		webman := w.Names == config.CompatWebman || w.Names == "" && app.WebmanWebhooks()
		return endpoint{name: w.Name, url: w.URL, subject: w.NATSSubject, filter: w.Events, headers: w.Headers,
			webman: webman, kinds: kindAll}
	}
	e := endpoint{name: short[i], filter: app.WebhookEvents, webman: app.WebmanWebhooks(), kinds: kindAll}
	switch e.name {
	case config.EndpointChannelHook:
		e.url, e.kinds = app.ChannelHookURL, kindChannel
	case config.EndpointUserHook:
		e.url, e.kinds = app.UserHookURL, kindMember
	default:
		e.url = app.WebhookURL
		if e.webman && app.ChannelHookURL != "" {
			e.kinds &^= kindChannel
		}
		if e.webman && app.UserHookURL != "" {
			e.kinds &^= kindMember
		}
	}
	return e
}

// endpointNamed finds an app's endpoint by name.
func endpointNamed(app *config.App, name string) (endpoint, bool) {
	for i := range numEndpoints(app) {
		if e := endpointAt(app, i); e.name == name {
			return e, true
		}
	}
	return endpoint{}, false
}

// takes tells whether the endpoint wants an event: its kinds, its filter,
// and for webman naming one of the four events webman/push has.
func (e *endpoint) takes(ev Event) bool {
	if e.kinds&kindOf(ev.Name) == 0 || !Wanted(e.filter, ev.Name) {
		return false
	}
	if e.webman {
		_, known := webmanNames[ev.Name]
		return known
	}
	return true
}

// shape is the event object the endpoint gets for ev.
func (e *endpoint) shape(app *config.App, ev Event) any {
	if !e.webman {
		return ev
	}
	obj := webmanEvent{Channel: ev.Channel, Name: webmanNames[ev.Name]}
	if ev.Name == MemberAdded || ev.Name == MemberRemoved {
		obj.UserID = ev.UserID
		if app.Webman() {
			obj.UserID = protocol.WebmanUserID(ev.UserID)
		}
	}
	return obj
}

// wanted tells whether any endpoint of the app takes ev.
func wanted(app *config.App, ev Event) bool {
	for i := range numEndpoints(app) {
		if e := endpointAt(app, i); e.takes(ev) {
			return true
		}
	}
	return false
}

// Wanted applies an app's webhook_events filter to the event with Pusher
// name pusherName: an empty filter takes everything but the opt-in events
// (subscription_count, user_online, user_offline), else the filter must
// list the Pusher name or webman/push's name of the event, whichever naming
// the app's webhooks carry.
func Wanted(filter []string, pusherName string) bool {
	if len(filter) == 0 && !optIn(pusherName) {
		return true
	}
	if slices.Contains(filter, pusherName) {
		return true
	}
	alias, ok := webmanNames[pusherName]
	return ok && slices.Contains(filter, alias)
}

// optIn tells whether an event is sent only where a filter names it.
func optIn(name string) bool {
	return name == SubscriptionCount || name == UserOnline || name == UserOffline
}

// opposite pairs the state events that undo each other.
var opposite = map[string]string{
	ChannelOccupied: ChannelVacated,
	ChannelVacated:  ChannelOccupied,
	MemberAdded:     MemberRemoved,
	MemberRemoved:   MemberAdded,
	UserOnline:      UserOffline,
	UserOffline:     UserOnline,
}

// recordsOnly tells whether an event no endpoint wants must still be
// settled against the reported state: it is a state event whose opposite
// some endpoint wants.
func recordsOnly(app *config.App, ev Event) bool {
	name, ok := opposite[ev.Name]
	if !ok {
		return false
	}
	ev.Name = name
	return wanted(app, ev)
}
