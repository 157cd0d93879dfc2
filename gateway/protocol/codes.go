package protocol

// Error and close codes of the Pusher protocol. 4000-4099 mean "do not
// reconnect unchanged", 4100-4199 "reconnect after a back-off", 4200-4299
// "reconnect at once", 4300-4399 anything else (frames only: pusher-js stops
// reconnecting when it sees a close code of 4300 or more).
const (
	CodeTLSOnly             = 4000
	CodeAppNotFound         = 4001
	CodeAppDisabled         = 4003
	CodeOverQuota           = 4004
	CodePathNotFound        = 4005
	CodeInvalidVersion      = 4006
	CodeUnsupportedProtocol = 4007
	CodeNoProtocol          = 4008
	CodeUnauthorized        = 4009
	CodeOverCapacity        = 4100
	CodeReconnect           = 4200
	CodePongNotReceived     = 4201
	CodeClosedInactive      = 4202
	// CodeInvalidMessage is Pushd's code for a frame it cannot use (bad JSON,
	// a binary frame, an unknown event). It is sent as a frame, never a close.
	CodeInvalidMessage   = 4300
	CodeClientEventLimit = 4301
	CodeWatchlistLimit   = 4302
)
