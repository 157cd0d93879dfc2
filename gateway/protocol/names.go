package protocol

import (
	"errors"
	"fmt"
	"strings"
)

// Kind is the type of a channel, decided by its name's prefix.
type Kind int

// Channel kinds.
const (
	Public Kind = iota
	Private
	Encrypted
	Presence
	ServerToUser
)

// ServerToUserPrefix starts the internal channel of one signed-in user.
const ServerToUserPrefix = "#server-to-user-"

// OnlineChannel is the internal presence channel of signed-in users: a user
// is online while signed in on at least one connection of the cluster. '#'
// is reserved, so no client can subscribe to it.
const OnlineChannel = "#online"

// MaxWatchlist is Pusher's watchlist size: the most user ids one signed-in
// connection watches.
const MaxWatchlist = 100

// KindOf returns the kind of a channel name.
func KindOf(channel string) Kind {
	switch {
	case strings.HasPrefix(channel, "private-encrypted-"):
		return Encrypted
	case strings.HasPrefix(channel, "private-"):
		return Private
	case strings.HasPrefix(channel, "presence-"):
		return Presence
	case strings.HasPrefix(channel, ServerToUserPrefix):
		return ServerToUser
	}
	return Public
}

// NeedsAuth reports whether subscribing to a channel of this kind needs a
// signature from the app's backend.
func (k Kind) NeedsAuth() bool { return k == Private || k == Encrypted || k == Presence }

// AllowsClientEvents reports whether clients may send client- events on it:
// private and presence channels, not encrypted ones (Pusher refuses them,
// the server cannot check their payload, and pusher-js never sends them).
func (k Kind) AllowsClientEvents() bool { return k == Private || k == Presence }

// HasSubscriptionCount reports whether channels of this kind report their
// subscriber count (pusher_internal:subscription_count and the
// subscription_count webhook): public and private ones; presence channels
// have member events instead. Internal '#' names are excluded by callers.
func (k Kind) HasSubscriptionCount() bool { return k == Public || k == Private || k == Encrypted }

// IsCache reports whether a channel keeps its last event for new subscribers.
func IsCache(channel string) bool {
	for _, p := range [...]string{"cache-", "private-cache-", "private-encrypted-cache-", "presence-cache-"} {
		if strings.HasPrefix(channel, p) {
			return true
		}
	}
	return false
}

// Name errors.
var (
	ErrNameEmpty    = errors.New("name is empty")
	ErrNameTooLong  = errors.New("name is too long")
	ErrNameInvalid  = errors.New("name has characters outside [A-Za-z0-9_-=@,.;]")
	ErrNameReserved = errors.New("names containing '#' are reserved")
)

func validChannelChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("_-=@,.;", c) >= 0
}

// ValidateChannel checks a channel name a client or the API may use: at most
// maxLen bytes of [A-Za-z0-9_-=@,.;], or "#server-to-user-" followed by such
// characters.
func ValidateChannel(name string, maxLen int) error {
	if name == "" {
		return ErrNameEmpty
	}
	if len(name) > maxLen {
		return fmt.Errorf("%w (%d > %d)", ErrNameTooLong, len(name), maxLen)
	}
	rest := name
	if strings.HasPrefix(name, ServerToUserPrefix) {
		rest = name[len(ServerToUserPrefix):]
		if rest == "" {
			return ErrNameEmpty
		}
	}
	for i := 0; i < len(rest); i++ {
		if !validChannelChar(rest[i]) {
			if rest[i] == '#' {
				return ErrNameReserved
			}
			return ErrNameInvalid
		}
	}
	return nil
}

// ValidateEventName checks an event name: not empty, at most maxLen bytes.
func ValidateEventName(name string, maxLen int) error {
	if name == "" {
		return ErrNameEmpty
	}
	if len(name) > maxLen {
		return fmt.Errorf("%w (%d > %d)", ErrNameTooLong, len(name), maxLen)
	}
	return nil
}

// ValidSocketID reports whether s has the form digits "." digits.
func ValidSocketID(s string) bool {
	dot := strings.IndexByte(s, '.')
	if dot <= 0 || dot == len(s)-1 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i != dot && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}
