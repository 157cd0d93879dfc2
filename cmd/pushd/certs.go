package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/pushd/pushd/internal/every"
)

// certs holds the current TLS certificate and re-reads it on demand and
// when its files change.
type certs struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
	stamp             atomic.Int64 // newest mtime of the files, unix nanos
	log               *slog.Logger
}

func newCerts(certFile, keyFile string, log *slog.Logger) (*certs, error) {
	c := &certs{certFile: certFile, keyFile: keyFile, log: log}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

// load reads the key pair; on error the previous certificate stays.
func (c *certs) load() error {
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	c.cur.Store(&pair)
	c.stamp.Store(c.mtime())
	return nil
}

func (c *certs) mtime() int64 {
	var newest int64
	for _, f := range []string{c.certFile, c.keyFile} {
		if st, err := os.Stat(f); err == nil && st.ModTime().UnixNano() > newest {
			newest = st.ModTime().UnixNano()
		}
	}
	return newest
}

// config is the server TLS configuration that always serves the current
// certificate.
func (c *certs) config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load(), nil
		},
	}
}

// watch reloads the certificate when its files change, until ctx ends.
func (c *certs) watch(ctx context.Context, d time.Duration) {
	every.Tick(ctx, d, func(time.Time) {
		if c.mtime() != c.stamp.Load() {
			c.reload("files changed")
		}
	})
}

func (c *certs) reload(why string) {
	if err := c.load(); err != nil {
		c.log.Error("tls certificate reload failed, keeping the previous one", slog.Any("err", err))
		return
	}
	c.log.Info("tls certificate reloaded", slog.String("why", why))
}
