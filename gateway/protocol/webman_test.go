package protocol

import (
	"encoding/json"
	"testing"
)

func TestWebmanUserID(t *testing.T) {
	tests := []struct{ id, want string }{
		{"1", `1`},
		{"0", `0`},
		{"-7", `-7`},
		{"9223372036854775807", `9223372036854775807`},
		{"9223372036854775808", `"9223372036854775808"`}, // beyond int64: PHP keeps the string
		{"01", `"01"`},
		{"-0", `"-0"`},
		{"-01", `"-01"`},
		{"+1", `"+1"`},
		{" 1", `" 1"`},
		{"1.5", `"1.5"`},
		{"1e3", `"1e3"`},
		{"abc", `"abc"`},
		{"", `""`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(WebmanUserID(tt.id))
		if err != nil {
			t.Fatalf("marshal %q: %v", tt.id, err)
		}
		if string(b) != tt.want {
			t.Errorf("WebmanUserID(%q): got %s, want %s", tt.id, b, tt.want)
		}
	}
}
