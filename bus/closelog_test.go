package bus

import (
	"log/slog"
	"strings"
	"testing"
)

// TestCleanCloseLogsNoWarning is issue 15: a clean shutdown logged
// "WARN nats disconnected err=<nil>", as if the connection had been lost.
// Closing the bus is routine: nothing at warn or above.
func TestCleanCloseLogsNoWarning(t *testing.T) {
	b, logs, err := openLogged(t, slog.LevelInfo, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("a clean close logged %s", line)
		}
	}
}
