package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pushd/pushd/config"
)

// listenCredsFile keeps the generated credentials of the NATS listener.
const listenCredsFile = "nats-listen.json"

// listenerUser is the user name of generated listener credentials.
const listenerUser = "pushd"

// listenCreds tells where the listener's credentials come from.
type listenCreds int

const (
	credsConfigured listenCreds = iota // nats_listen_auth (or no listener)
	credsGenerated                     // generated on an earlier start
	credsCreated                       // generated now
)

// listenCredentials gives the embedded server's listener the user and
// password generated on first start (kept in the data directory, 0600) when
// it has no credentials of its own in nats_listen_auth.
func listenCredentials(cfg *config.Config) (listenCreds, error) {
	if cfg.NATSListen == "" || cfg.NATSListenAuth.HasCredentials() {
		return credsConfigured, nil
	}
	src := credsGenerated
	path := filepath.Join(cfg.DataDir, listenCredsFile)
	var c struct {
		User     string `json:"user"`
		Password string `json:"password"`
	}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &c); err != nil || c.User == "" || c.Password == "" {
			return 0, fmt.Errorf("read %s: not a user and password (remove it to generate new ones): %v", path, err)
		}
	case errors.Is(err, os.ErrNotExist):
		c.User, c.Password = listenerUser, randomHex(24)
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return 0, fmt.Errorf("create data dir: %w", err)
		}
		b, _ := json.MarshalIndent(c, "", "  ")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return 0, fmt.Errorf("write %s: %w", path, err)
		}
		src = credsCreated
	default:
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	cfg.NATSListenAuth.User, cfg.NATSListenAuth.Password = c.User, c.Password
	return src, nil
}

// listenerLine is the banner's description of the NATS listener: the URL
// other gateways use (with the password only when it was generated just
// now) and where its credentials come from.
func listenerLine(cfg config.Config, src listenCreds) string {
	a := cfg.NATSListenAuth
	scheme := "nats"
	if a.CertFile != "" {
		scheme = "tls"
	}
	where := filepath.Join(cfg.DataDir, listenCredsFile)
	switch src {
	case credsCreated:
		return fmt.Sprintf("%s://%s:%s@%s (other gateways: --nats-url with this URL; user and password generated, kept in %s)",
			scheme, a.User, a.Password, cfg.NATSListen, where)
	case credsGenerated:
		return fmt.Sprintf("%s://%s (user %s, password generated on first start, kept in %s)", scheme, cfg.NATSListen, a.User, where)
	}
	return fmt.Sprintf("%s://%s (credentials from nats_listen_auth)", scheme, cfg.NATSListen)
}
