package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pushd/pushd/config"
)

const checkConfigUsage = "usage: pushd check-config FILE\n\nchecks a config file as a start would (every field, the TLS pair and the files it names) and exits 0 with a summary, or 1 listing each problem with its field"

// checkConfigCommand runs `pushd check-config FILE`: the file is read,
// completed with the defaults and validated as a start validates it, and
// the files it names (TLS pair, NATS credentials) must be readable. It
// writes nothing and starts nothing. Problems go to out, one a line with
// the field at fault, and the command fails with errLogged; else a short
// summary.
func checkConfigCommand(args []string, out io.Writer) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return errors.New(checkConfigUsage)
	}
	path := args[0]
	cfg, err := config.Load(path)
	if err == nil {
		cfg.Defaults()
		err = errors.Join(cfg.Validate(), checkFiles(cfg))
	}
	if err != nil {
		lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
		fmt.Fprintf(out, "%s: not valid\n", path)
		for _, l := range lines {
			fmt.Fprintf(out, "  %s\n", strings.TrimSpace(l))
		}
		return errLogged
	}
	fmt.Fprintf(out, "%s: ok\n", path)
	fmt.Fprintf(out, "  websocket  %s\n  http api   %s\n", cfg.WSAddr, cfg.APIAddr)
	if cfg.NATSURL == "" {
		fmt.Fprintf(out, "  nats       embedded, data in %s\n", cfg.DataDir)
	} else {
		fmt.Fprintf(out, "  nats       %s\n", cfg.NATSURL)
	}
	keys := make([]string, 0, len(cfg.Apps))
	for _, a := range cfg.Apps {
		keys = append(keys, a.Key)
	}
	switch {
	case len(keys) == 0:
		fmt.Fprintf(out, "  apps       none: a start generates one (kept in %s/app.json) unless --app-key is given\n", cfg.DataDir)
	case len(keys) > 10:
		fmt.Fprintf(out, "  apps       %d: %s, …\n", len(keys), strings.Join(keys[:10], ", "))
	default:
		fmt.Fprintf(out, "  apps       %d: %s\n", len(keys), strings.Join(keys, ", "))
	}
	if cfg.ConsolePassword != "" || cfg.ConsoleWithSecret {
		fmt.Fprintf(out, "  console    on, at /console on the API port\n")
	}
	return nil
}

// checkFiles reports the files the configuration names that a start could
// not read: the TLS pair (loaded as the server loads it) and the NATS
// credentials and certificates.
func checkFiles(cfg config.Config) error {
	var errs []error
	if cfg.TLSCert != "" && cfg.TLSKey != "" {
		if _, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey); err != nil {
			errs = append(errs, fmt.Errorf("tls_cert, tls_key: %w", err))
		}
	}
	for _, f := range []struct{ field, path string }{
		{"nats.nkey_file", cfg.NATS.NKeyFile}, {"nats.creds_file", cfg.NATS.CredsFile}, {"nats.ca_file", cfg.NATS.CAFile},
		{"nats.cert_file", cfg.NATS.CertFile}, {"nats.key_file", cfg.NATS.KeyFile},
		{"nats_listen_auth.nkey_file", cfg.NATSListenAuth.NKeyFile}, {"nats_listen_auth.cert_file", cfg.NATSListenAuth.CertFile},
		{"nats_listen_auth.key_file", cfg.NATSListenAuth.KeyFile}, {"nats_listen_auth.ca_file", cfg.NATSListenAuth.CAFile},
	} {
		if f.path == "" {
			continue
		}
		if fh, err := os.Open(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.field, err))
		} else {
			fh.Close()
		}
	}
	return errors.Join(errs...)
}
