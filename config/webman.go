package config

// WebmanLimits are the limits an app in webman mode gets where it sets
// none. webman/push checks neither event size, nor channels per trigger,
// nor event name length, nor the client event rate; these values only keep
// what the transport carries: one event must fit a NATS message (1 MiB by
// default, the data is escaped once more inside the frame), a client event
// a WebSocket frame (64 KiB), and a trigger's channels a request body.
var WebmanLimits = Limits{
	MaxEventBytes:       256 << 10,
	MaxChannelsPerEvent: 10000,
	MaxEventNameLength:  64 << 10,
	ClientEventsPerSec:  1_000_000,
}

// webmanDefaults fills the limits webman/push does not have with
// WebmanLimits; the others keep their Pusher defaults.
func (l *Limits) webmanDefaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.MaxEventBytes, WebmanLimits.MaxEventBytes)
	def(&l.MaxChannelsPerEvent, WebmanLimits.MaxChannelsPerEvent)
	def(&l.MaxEventNameLength, WebmanLimits.MaxEventNameLength)
	def(&l.ClientEventsPerSec, WebmanLimits.ClientEventsPerSec)
}
