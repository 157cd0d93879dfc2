package apps

import (
	"errors"
	"testing"
	"time"

	"github.com/pushd/pushd/config"
)

func TestVerifyDuringAndAfterTheGracePeriod(t *testing.T) {
	now := time.Now()
	tb := NewTable([]config.App{{Key: "k", Secret: "new", PreviousSecret: "old", PreviousSecretExpires: now.Add(time.Minute)}}, nil)
	a := tb.Get("k")
	signedWith := func(want string) func(string) error {
		return func(secret string) error {
			if secret != want {
				return errors.New("bad signature")
			}
			return nil
		}
	}
	for _, tt := range []struct {
		name   string
		at     time.Time
		signer string
		ok     bool
	}{
		{"current secret", now, "new", true},
		{"previous secret within the grace period", now, "old", true},
		{"previous secret at its expiry", now.Add(time.Minute), "old", false},
		{"current secret after the expiry", now.Add(time.Hour), "new", true},
		{"another secret", now, "other", false},
	} {
		if err := a.Verify(tt.at, signedWith(tt.signer)); (err == nil) != tt.ok {
			t.Errorf("%s: Verify = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}
