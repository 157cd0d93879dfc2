package loglimit

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lines decodes the JSON lines a test logger wrote.
func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func testLimiter(perSource, total int) (*Limiter, *time.Time) {
	l := New(perSource, total)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	return l, &now
}

func TestPerSourceAndSuppressedCount(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	l, now := testLimiter(3, 100)
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		l.Log(ctx, log, slog.LevelInfo, "10.0.0.1", "refused", slog.Int("i", i))
	}
	l.Log(ctx, log, slog.LevelInfo, "10.0.0.2", "refused", slog.Int("i", 99))
	got := lines(t, &buf)
	if len(got) != 4 {
		t.Fatalf("wrote %d lines, want 3 of the flooding source and 1 of the other:\n%s", len(got), buf.String())
	}
	if got[3]["i"] != float64(99) {
		t.Fatalf("the other source's line: %v, want i=99", got[3])
	}
	// A second later the source has its budget back, and its next line
	// tells how many were held back.
	*now = now.Add(time.Second)
	buf.Reset()
	l.Log(ctx, log, slog.LevelInfo, "10.0.0.1", "refused", slog.Int("i", 10))
	got = lines(t, &buf)
	if len(got) != 1 || got[0]["suppressed"] != float64(7) {
		t.Fatalf("after the refill: %v, want one line with suppressed=7", got)
	}
	buf.Reset()
	l.Log(ctx, log, slog.LevelInfo, "10.0.0.1", "refused", slog.Int("i", 11))
	if got = lines(t, &buf); len(got) != 1 || got[0]["suppressed"] != nil {
		t.Fatalf("next line: %v, want no suppressed count (it was reported)", got)
	}
}

func TestTotalCapAcrossSources(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	l, _ := testLimiter(5, 20)
	for i := 0; i < 1000; i++ {
		l.Log(context.Background(), log, slog.LevelWarn, "10.0.0."+strconv.Itoa(i), "refused")
	}
	if n := len(lines(t, &buf)); n != 20 {
		t.Fatalf("1000 sources wrote %d lines in one instant, want the cap of 20", n)
	}
}

func TestLevelOffCostsNothing(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	l, _ := testLimiter(1, 1)
	for i := 0; i < 10; i++ {
		l.Log(context.Background(), log, slog.LevelDebug, "a", "routine")
	}
	l.Log(context.Background(), log, slog.LevelInfo, "a", "refused")
	got := lines(t, &buf)
	if len(got) != 1 || got[0]["suppressed"] != nil {
		t.Fatalf("debug lines with debug off took the budget or were counted: %v", got)
	}
}
