package bus

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
)

// natsLogger routes the embedded nats-server's own log through pushd's
// logger: warnings at warn, errors and fatal errors at error, and its
// notices (its start-up banner, routine state changes), debug and trace
// lines at debug (the server only produces the last two when pushd logs at
// debug). pushd's own lines say what an operator needs at info. It keeps the last error, so a server that fails to
// start can be reported with its cause ("permission denied", "no space left
// on device") rather than a timeout.
type natsLogger struct {
	log *slog.Logger

	mu      sync.Mutex
	lastErr string
	fatal   string
}

func newNATSLogger(log *slog.Logger) *natsLogger {
	return &natsLogger{log: log.With(slog.String("component", "nats-server"))}
}

// debug reports whether the server should produce its debug lines.
func (l *natsLogger) debug() bool { return l.log.Enabled(context.Background(), slog.LevelDebug) }

// Noticef logs at debug.
func (l *natsLogger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }

// Warnf logs at warn.
func (l *natsLogger) Warnf(format string, v ...any) { l.log.Warn(fmt.Sprintf(format, v...)) }

// Errorf logs at error and remembers the message.
func (l *natsLogger) Errorf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.log.Error(msg)
	l.mu.Lock()
	l.lastErr = msg
	l.mu.Unlock()
}

// Fatalf logs at error and remembers the message: an embedded server never
// exits the process, it fails to start and startEmbedded reports why.
func (l *natsLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.log.Error(msg, slog.Bool("fatal", true))
	l.mu.Lock()
	l.lastErr, l.fatal = msg, msg
	l.mu.Unlock()
}

// Debugf logs at debug.
func (l *natsLogger) Debugf(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }

// Tracef logs at debug.
func (l *natsLogger) Tracef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }

// failure is the fatal error the server reported, else its last error ("" for none).
func (l *natsLogger) failure() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fatal != "" {
		return l.fatal
	}
	return l.lastErr
}

// fatalErr is the fatal error the server reported ("" for none).
func (l *natsLogger) fatalErr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatal
}

// reset forgets the errors of a server that was stopped.
func (l *natsLogger) reset() {
	l.mu.Lock()
	l.lastErr, l.fatal = "", ""
	l.mu.Unlock()
}
