package main

import (
	"context"
	"errors"
	"log"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/internal/loglimit"
)

// newLogger is the process's one logger: every line pushd writes after
// its configuration is read goes through it, so that with --log-format
// json every line is JSON.
func newLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo // config.Validate refuses other values
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// errLogged is an error the logger already wrote: main only exits.
var errLogged = errors.New("logged")

// logFatal writes the error that ends the process through the logger when
// the log is JSON (main prints it as text otherwise).
func logFatal(cfg config.Config, log *slog.Logger, err error) error {
	if err == nil || cfg.LogFormat != "json" {
		return err
	}
	log.Error("pushd stopped", slog.Any("err", err))
	return errLogged
}

// httpErrorLog routes net/http's own error lines (a TLS handshake that
// failed, an accept error, a handler's panic) to slog instead of Go's
// standard logger: a failed TLS handshake is the client's doing, logged at
// info and limited per remote address (scanners make many); anything else
// warns.
func httpErrorLog(ctx context.Context, l *slog.Logger, server string) *log.Logger {
	w := &httpLogWriter{ctx: ctx, log: l.With(slog.String("server", server)), lim: loglimit.New(loglimit.DefaultPerSource, loglimit.DefaultTotal)}
	return log.New(w, "", 0)
}

type httpLogWriter struct {
	ctx context.Context
	log *slog.Logger
	lim *loglimit.Limiter
}

// tlsPrefix starts net/http's line for a failed TLS handshake:
// "http: TLS handshake error from ADDR: CAUSE".
const tlsPrefix = "http: TLS handshake error from "

func (w *httpLogWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	if rest, ok := strings.CutPrefix(line, tlsPrefix); ok {
		addr, cause, _ := strings.Cut(rest, ": ")
		src := addr
		if h, _, err := net.SplitHostPort(addr); err == nil {
			src = h
		}
		w.lim.Log(w.ctx, w.log, slog.LevelInfo, src, "tls handshake failed", slog.String("remote", addr), slog.String("reason", cause))
		return len(p), nil
	}
	w.log.Warn("http server", slog.String("err", line))
	return len(p), nil
}
