package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/pushd/pushd/config"
)

// banner is what a start announces: where the server listens and how to
// reach each app. A generated secret is shown once, on the start that
// created it (it is new to the user and kept in the data directory), and
// so is the NATS listener's generated password; later starts and
// configured secrets never show them.
type banner struct {
	wsBase, api string // ws://host:port, http://host:port
	nats        string // "embedded (data in …)" or the external URL
	natsPort    string // the embedded server's client listener, or ""
	apps        []bannerApp
	admin       string // the admin API's URL, or "" when it is off
	more        int    // apps of the app store besides the configuration's
}

type bannerApp struct {
	id, key, secret, websocket string
}

func newBanner(cfg config.Config, generated generatedKey, creds listenCreds, wsAddr, apiAddr string, secure bool) banner {
	ws, api := "ws", "http"
	if secure {
		ws, api = "wss", "https"
	}
	b := banner{wsBase: ws + "://" + wsAddr, api: api + "://" + apiAddr, nats: cfg.NATSURL}
	if cfg.NATSURL == "" {
		b.nats = "embedded (data in " + cfg.DataDir + ")"
		if cfg.NATSListen != "" {
			b.natsPort = listenerLine(cfg, creds)
		}
	}
	kept := filepath.Join(cfg.DataDir, "app.json")
	for _, a := range cfg.Apps {
		id := a.ID
		if id == "" {
			id = "(any)"
		}
		secret := "(configured)"
		switch {
		case a.Key == generated.key && generated.created:
			secret = a.Secret + " (generated now, kept in " + kept + ")"
		case a.Key == generated.key:
			secret = "(generated, kept in " + kept + ")"
		}
		b.apps = append(b.apps, bannerApp{id: id, key: a.Key, secret: secret, websocket: b.wsBase + "/app/" + a.Key})
	}
	return b
}

// withStore adds the admin API (when a token turns it on) and the count
// of the app store's apps to the banner.
func (b banner) withStore(admin bool, storeApps int) banner {
	if admin {
		b.admin = b.api + "/admin/apps"
	}
	b.more = max(storeApps-len(b.apps), 0)
	return b
}

// websocket is the URL a client of the first app connects to, and a word
// on the others when there are several.
func (b banner) websocket() string {
	switch len(b.apps) {
	case 0:
		return b.wsBase + "/app/{app_key}"
	case 1:
		return b.apps[0].websocket
	}
	return b.apps[0].websocket + " (each app: /app/{its key})"
}

// announce prints the banner on out in text mode; with a JSON log it is one
// JSON line of the log instead ("pushd ready", at info, written whatever
// the log level, as the text banner is).
func (b banner) announce(out io.Writer, log *slog.Logger, format string) {
	if format == "json" {
		r := slog.NewRecord(time.Now(), slog.LevelInfo, "pushd ready", 0)
		r.AddAttrs(slog.String("websocket", b.websocket()), slog.String("http_api", b.api), slog.String("nats", b.nats))
		if b.natsPort != "" {
			r.AddAttrs(slog.String("nats_port", b.natsPort))
		}
		apps := make([]map[string]string, 0, len(b.apps))
		for _, a := range b.apps {
			apps = append(apps, map[string]string{"id": a.id, "key": a.key, "secret": a.secret, "websocket": a.websocket})
		}
		r.AddAttrs(slog.Any("apps", apps))
		if b.admin != "" {
			r.AddAttrs(slog.String("admin_api", b.admin))
		}
		if b.more > 0 {
			r.AddAttrs(slog.Int("more_apps_in_store", b.more))
		}
		_ = log.Handler().Handle(context.Background(), r)
		return
	}
	fmt.Fprintf(out, "pushd ready\n  websocket  %s\n  http api   %s\n  nats       %s\n", b.websocket(), b.api, b.nats)
	if b.natsPort != "" {
		fmt.Fprintf(out, "  nats port  %s\n", b.natsPort)
	}
	if b.admin != "" {
		fmt.Fprintf(out, "  admin api  %s (Authorization: Bearer <admin_token>; pushd apps --help)\n", b.admin)
	}
	for _, a := range b.apps {
		fmt.Fprintf(out, "  app        id=%s key=%s secret=%s\n", a.id, a.key, a.secret)
	}
	if b.more > 0 {
		fmt.Fprintf(out, "  apps       %d more in the app store (pushd apps list)\n", b.more)
	}
}
