package webhook

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// TestMissedHeartbeatIsQuiet is issue 15: an idle, healthy cluster logged
// a spurious "no heartbeat" warning from the job consumer, which recovers
// from it by itself. It goes to debug; other consumer errors still warn.
func TestMissedHeartbeatIsQuiet(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want slog.Level
	}{
		{jetstream.ErrNoHeartbeat, slog.LevelDebug},
		{fmt.Errorf("pull: %w", jetstream.ErrNoHeartbeat), slog.LevelDebug},
		{jetstream.ErrConsumerDeleted, slog.LevelWarn},
		{errors.New("nats: timeout"), slog.LevelWarn},
	} {
		if got := consumerErrLevel(tc.err); got != tc.want {
			t.Errorf("%v: logged at %s, want %s", tc.err, got, tc.want)
		}
	}
}
