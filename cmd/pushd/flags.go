package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pushd/pushd/config"
)

// settings are the command-line flags; each has a PUSHD_* environment
// equivalent (--ws-addr and PUSHD_WS_ADDR). A flag wins over its variable,
// which wins over the config file.
type settings struct {
	configFile, wsAddr, apiAddr, dataDir, natsURL, natsListen string
	appID, appKey, appSecret, webhookURL, logLevel, logFormat string
	tlsCert, tlsKey, pprofAddr, appCompat, webhookNames       string
	adminToken, nodeName                                      string
	console                                                   consoleFlags
}

func (s *settings) flags(fs *flag.FlagSet) {
	fs.StringVar(&s.configFile, "config", "", "YAML configuration file (apps and every setting)")
	fs.StringVar(&s.wsAddr, "ws-addr", "", "WebSocket listen address (default 127.0.0.1:3131)")
	fs.StringVar(&s.apiAddr, "api-addr", "", "HTTP API listen address (default 127.0.0.1:3232)")
	fs.StringVar(&s.dataDir, "data-dir", "", "data directory for JetStream and generated credentials (default ./data)")
	fs.StringVar(&s.natsURL, "nats-url", "", "external NATS URL(s); empty runs an embedded NATS server")
	fs.StringVar(&s.natsListen, "nats-listen", "", "open a NATS client listener on the embedded server (host:port)")
	fs.StringVar(&s.appID, "app-id", "", "id of a single app defined on the command line")
	fs.StringVar(&s.appKey, "app-key", "", "key of a single app defined on the command line")
	fs.StringVar(&s.appSecret, "app-secret", "", "secret of a single app defined on the command line")
	fs.StringVar(&s.webhookURL, "webhook-url", "", "webhook URL of the command-line (or generated) app")
	fs.StringVar(&s.appCompat, "app-compat", "", "pusher or webman: how the command-line (or generated) app answers (default pusher, webman for the generated app)")
	fs.StringVar(&s.webhookNames, "webhook-names", "", "pusher or webman: webhook names of the command-line (or generated) app (default: as its compat mode)")
	fs.StringVar(&s.tlsCert, "tls-cert", "", "TLS certificate (PEM) for wss:// and https:// on both ports")
	fs.StringVar(&s.tlsKey, "tls-key", "", "TLS private key (PEM)")
	fs.StringVar(&s.pprofAddr, "pprof-addr", "", "serve Go's /debug/pprof on this address (off by default; keep it on loopback)")
	fs.StringVar(&s.logLevel, "log-level", "", "debug, info, warn or error")
	fs.StringVar(&s.logFormat, "log-format", "", "text or json")
	fs.StringVar(&s.nodeName, "node-name", "", "this node's name in the console (default: the host name)")
	fs.StringVar(&s.adminToken, "admin-token", "", "bearer token of the admin API (/admin/apps) and the console's app management; prefer PUSHD_ADMIN_TOKEN (flags show in ps)")
	s.console.flags(fs)
}

// loadConfig builds the configuration from file, environment and flags.
// generated is the key of the app created on first start, if that is the
// app in use ("" otherwise).
func loadConfig(args []string, getenv func(string) string) (cfg config.Config, generated generatedKey, err error) {
	fs := flag.NewFlagSet("pushd", flag.ContinueOnError)
	var s settings
	s.flags(fs)
	var once oneShot // --version, --healthcheck: answer and exit (version.go)
	once.flags(fs)
	if err := parseFlags(fs, args, getenv); err != nil {
		return cfg, generated, err
	}
	if err := once.requested(fs, &s); err != nil {
		return cfg, generated, err
	}
	return s.config(true)
}

// envName is the environment twin of a flag: ws-addr → PUSHD_WS_ADDR.
func envName(flag string) string {
	return "PUSHD_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// parseFlags sets fs from the environment (PUSHD_*), then from args: a flag
// given explicitly overrides its variable.
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	var bad error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" && bad == nil {
			if err := f.Value.Set(v); err != nil {
				bad = fmt.Errorf("%s=%q: %w", envName(f.Name), v, err)
			}
		}
	})
	if bad != nil {
		return bad
	}
	fs.Usage = func() {} // --help is answered by the caller (help.go)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return &helpRequest{fs: fs}
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return nil
}

// config builds the configuration from the parsed settings. Without apps it
// uses the generated app kept in the data directory, creating it when
// generate is set (the server) and failing otherwise (a command).
func (s *settings) config(generate bool) (cfg config.Config, generated generatedKey, err error) {
	if s.configFile != "" {
		if cfg, err = config.Load(s.configFile); err != nil {
			return cfg, generated, err
		}
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&cfg.WSAddr, s.wsAddr)
	set(&cfg.APIAddr, s.apiAddr)
	set(&cfg.DataDir, s.dataDir)
	set(&cfg.NATSURL, s.natsURL)
	set(&cfg.NATSListen, s.natsListen)
	set(&cfg.LogLevel, s.logLevel)
	set(&cfg.LogFormat, s.logFormat)
	set(&cfg.TLSCert, s.tlsCert)
	set(&cfg.TLSKey, s.tlsKey)
	set(&cfg.PprofAddr, s.pprofAddr)
	set(&cfg.AdminToken, s.adminToken)
	set(&cfg.NodeName, s.nodeName)
	s.console.apply(&cfg)
	cfg.Defaults()
	if s.appKey != "" || s.appSecret != "" {
		if s.appKey == "" || s.appSecret == "" {
			return cfg, generated, errors.New("--app-key and --app-secret go together")
		}
		cfg.Apps = append(cfg.Apps, config.App{ID: s.appID, Key: s.appKey, Secret: s.appSecret, WebhookURL: s.webhookURL,
			Compat: s.appCompat, WebhookNames: s.webhookNames})
	} else if s.appCompat != "" || s.webhookNames != "" {
		if len(cfg.Apps) > 0 {
			return cfg, generated, errors.New("--app-compat and --webhook-names apply to the command-line or generated app; set compat and webhook_names in the config file")
		}
	}
	if len(cfg.Apps) == 0 {
		if !generate {
			if _, err := os.Stat(filepath.Join(cfg.DataDir, "app.json")); err != nil {
				return cfg, generated, fmt.Errorf("no apps: give --config (or --app-key and --app-secret), or the --data-dir of the server: %w", err)
			}
		}
		a, created, err := generatedApp(cfg.DataDir)
		if err != nil {
			return cfg, generated, err
		}
		a.WebhookURL = s.webhookURL
		// The generated app is what a webman/push user swapping servers
		// starts with: it answers as webman/push unless told otherwise.
		a.Compat = config.CompatWebman
		if s.appCompat != "" {
			a.Compat = s.appCompat
		}
		a.WebhookNames = s.webhookNames
		cfg.Apps = append(cfg.Apps, a)
		generated = generatedKey{key: a.Key, created: created}
	}
	cfg.Defaults()
	return cfg, generated, cfg.Validate()
}

// generatedKey names the app pushd generated (key "" when the apps are
// configured) and whether it was created by this start.
type generatedKey struct {
	key     string
	created bool
}

// generatedApp loads the app created on first start, or creates it: a random
// key and secret kept in the data directory so they survive restarts.
func generatedApp(dataDir string) (a config.App, created bool, err error) {
	path := filepath.Join(dataDir, "app.json")
	var f struct{ ID, Key, Secret string }
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &f); err != nil {
			return config.App{}, false, fmt.Errorf("read %s: %w", path, err)
		}
		return config.App{ID: f.ID, Key: f.Key, Secret: f.Secret}, false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return config.App{}, false, fmt.Errorf("read %s: %w", path, err)
	}
	f.Key, f.Secret = randomHex(10), randomHex(16) // no id: any /apps/{id} works, as in webman/push
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return config.App{}, false, fmt.Errorf("create data dir: %w", err)
	}
	b, _ := json.MarshalIndent(f, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return config.App{}, false, fmt.Errorf("write %s: %w", path, err)
	}
	return config.App{ID: f.ID, Key: f.Key, Secret: f.Secret}, true, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
