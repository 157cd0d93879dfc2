package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/pushd/pushd/config"
)

// healthcheckRequest is loadConfig's answer to --healthcheck: the settings
// of the server to probe (same file, environment and flags as the server).
type healthcheckRequest struct {
	cfg config.Config
}

func (*healthcheckRequest) Error() string { return "--healthcheck requested" }

// healthcheckConfig is what the probe needs of the server's configuration
// (file, then environment and flags): the API address and whether it
// speaks TLS. Unlike the server it needs no app, and writes nothing.
func (s *settings) healthcheckConfig() (config.Config, error) {
	var cfg config.Config
	if s.configFile != "" {
		var err error
		if cfg, err = config.Load(s.configFile); err != nil {
			return cfg, err
		}
	}
	if s.apiAddr != "" {
		cfg.APIAddr = s.apiAddr
	}
	if s.tlsCert != "" {
		cfg.TLSCert = s.tlsCert
	}
	cfg.Defaults()
	return cfg, nil
}

// probe asks the server on this machine for /readyz and fails unless it
// answers 200 within 5 s.
func (h *healthcheckRequest) probe() error {
	url := "http://" + loopbackAddr(h.cfg.APIAddr) + "/readyz"
	tr := &http.Transport{}
	if h.cfg.TLSCert != "" {
		url = "https://" + loopbackAddr(h.cfg.APIAddr) + "/readyz"
		// The certificate names the public host, not the loopback address
		// this probe uses to reach its own server; nothing secret is sent.
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec
	}
	c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// loopbackAddr turns a listen address into one to dial on this machine: an
// unspecified host (":3232", "0.0.0.0:3232", "[::]:3232") becomes loopback.
func loopbackAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, port)
}
