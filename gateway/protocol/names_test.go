package protocol

import (
	"errors"
	"strings"
	"testing"
)

func TestKindOf(t *testing.T) {
	tests := []struct {
		channel    string
		want       Kind
		auth       bool
		clientEvts bool
	}{
		{"my-channel", Public, false, false},
		{"", Public, false, false},
		{"cache-news", Public, false, false},
		{"privatefoo", Public, false, false},
		{"Private-foo", Public, false, false},
		{"presence", Public, false, false},
		{"private-foo", Private, true, true},
		{"private-", Private, true, true},
		{"private-cache-foo", Private, true, true},
		{"private-encrypted-foo", Encrypted, true, false},
		{"private-encrypted-cache-foo", Encrypted, true, false},
		{"private-encryptedfoo", Private, true, true},
		{"presence-room", Presence, true, true},
		{"presence-cache-room", Presence, true, true},
		{"#server-to-user-42", ServerToUser, false, false},
		{"#server-to-user-", ServerToUser, false, false},
		{"#server-to-usr-42", Public, false, false},
	}
	for _, tt := range tests {
		got := KindOf(tt.channel)
		if got != tt.want {
			t.Errorf("KindOf(%q): got %v, want %v", tt.channel, got, tt.want)
		}
		if a := got.NeedsAuth(); a != tt.auth {
			t.Errorf("KindOf(%q).NeedsAuth(): got %v, want %v", tt.channel, a, tt.auth)
		}
		if c := got.AllowsClientEvents(); c != tt.clientEvts {
			t.Errorf("KindOf(%q).AllowsClientEvents(): got %v, want %v", tt.channel, c, tt.clientEvts)
		}
	}
}

func TestIsCache(t *testing.T) {
	tests := []struct {
		channel string
		want    bool
	}{
		{"cache-news", true},
		{"cache-", true},
		{"private-cache-news", true},
		{"private-encrypted-cache-news", true},
		{"presence-cache-room", true},
		{"news", false},
		{"", false},
		{"cache", false},
		{"Cache-news", false},
		{"news-cache-", false},
		{"private-news", false},
		{"private-encrypted-news", false},
		{"presence-room", false},
		{"presence-private-cache-x", false},
		{"#server-to-user-cache-1", false},
	}
	for _, tt := range tests {
		if got := IsCache(tt.channel); got != tt.want {
			t.Errorf("IsCache(%q): got %v, want %v", tt.channel, got, tt.want)
		}
	}
}

// channelCases also seed the fuzz targets with interesting names.
var channelCases = []struct {
	name string
	max  int
	want error
}{
	{"my-channel", 200, nil},
	{"private-foobar", 200, nil},
	{"presence-room_1", 200, nil},
	{"private-encrypted-cache-x", 200, nil},
	{"a", 200, nil},
	{"AZaz09_-=@,.;", 200, nil},
	{"project-3", 200, nil},
	{"#server-to-user-42", 200, nil},
	{"#server-to-user-a.b@c", 200, nil},
	{strings.Repeat("a", 200), 200, nil},
	{strings.Repeat("a", 201), 200, ErrNameTooLong},
	{strings.Repeat("a", 164), 164, nil},
	{strings.Repeat("a", 165), 164, ErrNameTooLong},
	{"#server-to-user-" + strings.Repeat("1", 184), 200, nil},
	{"#server-to-user-" + strings.Repeat("1", 185), 200, ErrNameTooLong},
	{"", 200, ErrNameEmpty},
	{"#server-to-user-", 200, ErrNameEmpty},
	{"#", 200, ErrNameReserved},
	{"#news", 200, ErrNameReserved},
	{"news#1", 200, ErrNameReserved},
	{"private-#x", 200, ErrNameReserved},
	{"#server-to-user-1#2", 200, ErrNameReserved},
	{"#server-to-user#1", 200, ErrNameReserved},
	{"#Server-to-user-1", 200, ErrNameReserved},
	{"has space", 200, ErrNameInvalid},
	{"slash/x", 200, ErrNameInvalid},
	{"colon:x", 200, ErrNameInvalid},
	{"star*", 200, ErrNameInvalid},
	{"tab\t", 200, ErrNameInvalid},
	{"nul\x00", 200, ErrNameInvalid},
	{"é", 200, ErrNameInvalid},
	{"bad\xff", 200, ErrNameInvalid},
	{"dollar$", 200, ErrNameInvalid},
	{"#server-to-user-a b", 200, ErrNameInvalid},
}

func TestValidateChannel(t *testing.T) {
	for _, tt := range channelCases {
		err := ValidateChannel(tt.name, tt.max)
		if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
			t.Errorf("ValidateChannel(%q, %d): got %v, want %v", tt.name, tt.max, err, tt.want)
		}
	}
}

// Every byte outside [A-Za-z0-9_\-=@,.;] is refused, on its own and after a
// valid prefix.
func TestValidateChannelEveryByte(t *testing.T) {
	allowed := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-=@,.;"
	for c := 0; c < 256; c++ {
		name := "private-" + string([]byte{byte(c)})
		err := ValidateChannel(name, 200)
		switch {
		case strings.IndexByte(allowed, byte(c)) >= 0:
			if err != nil {
				t.Errorf("ValidateChannel(%q): got %v, want nil", name, err)
			}
		case c == '#':
			if !errors.Is(err, ErrNameReserved) {
				t.Errorf("ValidateChannel(%q): got %v, want %v", name, err, ErrNameReserved)
			}
		default:
			if !errors.Is(err, ErrNameInvalid) {
				t.Errorf("ValidateChannel(%q): got %v, want %v", name, err, ErrNameInvalid)
			}
		}
	}
}

func TestValidateEventName(t *testing.T) {
	tests := []struct {
		name string
		max  int
		want error
	}{
		{"my-event", 200, nil},
		{"client-typing", 200, nil},
		{"pusher:subscribe", 200, nil},
		{`App\Events\OrderShipped`, 200, nil},
		{"with space and é", 200, nil},
		{strings.Repeat("e", 200), 200, nil},
		{strings.Repeat("e", 201), 200, ErrNameTooLong},
		{strings.Repeat("é", 100), 200, nil},            // 200 bytes
		{strings.Repeat("é", 101), 200, ErrNameTooLong}, // 202 bytes: the limit counts bytes
		{"", 200, ErrNameEmpty},
	}
	for _, tt := range tests {
		err := ValidateEventName(tt.name, tt.max)
		if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
			t.Errorf("ValidateEventName(%q, %d): got %v, want %v", tt.name, tt.max, err, tt.want)
		}
	}
}

func TestValidSocketID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"1234.1234", true},
		{"1.1", true},
		{"0.0", true},
		{"123.456", true},
		{strings.Repeat("1", 31) + "." + strings.Repeat("2", 32), true},  // 64 bytes
		{strings.Repeat("1", 32) + "." + strings.Repeat("2", 32), false}, // 65 bytes
		{"", false},
		{".", false},
		{"1.", false},
		{".1", false},
		{"1", false},
		{"1.2.3", false},
		{"1..2", false},
		{"a.1", false},
		{"1.a", false},
		{"-1.1", false},
		{"1.-1", false},
		{"+1.1", false},
		{" 1.1", false},
		{"1.1 ", false},
		{"1.1\n", false},
		{"１.１", false}, // full-width digits
		{"1,1", false},
	}
	for _, tt := range tests {
		if got := ValidSocketID(tt.id); got != tt.want {
			t.Errorf("ValidSocketID(%q): got %v, want %v", tt.id, got, tt.want)
		}
	}
}
