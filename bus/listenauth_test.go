package bus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/pushd/pushd/config"
)

// openListener opens a bus whose embedded server listens on a random
// loopback port secured by a, proves its own in-process connection works,
// and returns it with the listener's client URL.
func openListener(t *testing.T, a config.NATSListenAuth) (*Bus, string) {
	t.Helper()
	got := make(chan Delivery, 10)
	ctx, cancel := context.WithTimeout(context.Background(), openLimit)
	defer cancel()
	b, err := Open(ctx, Options{DataDir: t.TempDir(), Listen: "127.0.0.1:-1", ListenAuth: a, Name: "listener"},
		func(d Delivery) { got <- d })
	if err != nil {
		t.Fatalf("open with listener: %v", err)
	}
	t.Cleanup(b.Close)
	roundTrip(t, b, got)
	return b, b.emb.server().ClientURL()
}

// rawConnect is a plain nats.go client, as an attacker on the network would
// use, bounded in time.
func rawConnect(t *testing.T, url string, opts ...nats.Option) (*nats.Conn, error) {
	t.Helper()
	nc, err := nats.Connect(url, append(opts, nats.Timeout(5*time.Second), nats.MaxReconnects(0))...)
	if err == nil {
		t.Cleanup(nc.Close)
	}
	return nc, err
}

// mustRefuseRaw requires a raw client to be refused with an error naming
// one of the causes.
func mustRefuseRaw(t *testing.T, url string, causes []string, opts ...nats.Option) {
	t.Helper()
	nc, err := rawConnect(t, url, opts...)
	if err == nil {
		// A connection that got through must not be able to do anything.
		_, serr := nc.Request("$JS.API.STREAM.NAMES", nil, 2*time.Second)
		t.Fatalf("raw client on %s connected (stream names request: %v), want it refused with %q", url, serr, causes)
	}
	for _, c := range causes {
		if strings.Contains(strings.ToLower(err.Error()), c) {
			return
		}
	}
	t.Fatalf("raw client on %s: error %q does not mention any of %q", url, err, causes)
}

// TestListenerRefusesClientsWithoutCredentials is issue 13 #1: the
// embedded server's listener let any NATS client read, forge and delete.
func TestListenerRefusesClientsWithoutCredentials(t *testing.T) {
	_, url := openListener(t, config.NATSListenAuth{User: "pushd", Password: "l1sten"})
	t.Run("no credentials", func(t *testing.T) {
		mustRefuseRaw(t, url, []string{"authorization"})
	})
	t.Run("wrong password", func(t *testing.T) {
		mustRefuseRaw(t, url, []string{"authorization"}, nats.UserInfo("pushd", "guess"))
	})
	t.Run("credentials in the URL, as printed for other gateways", func(t *testing.T) {
		withCreds := strings.Replace(url, "nats://", "nats://pushd:l1sten@", 1)
		mustOpen(t, withCreds, config.NATSAuth{})
	})
	t.Run("credentials in the nats section", func(t *testing.T) {
		mustOpen(t, url, config.NATSAuth{User: "pushd", Password: "l1sten"})
	})
}

// TestListenerNeedsCredentials proves a listener is never opened without
// authentication.
func TestListenerNeedsCredentials(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), openLimit)
	defer cancel()
	b, err := Open(ctx, Options{DataDir: t.TempDir(), Listen: "127.0.0.1:-1"}, func(Delivery) {})
	if err == nil {
		b.Close()
		t.Fatal("a listener without credentials was opened, want an error")
	}
	if !strings.Contains(err.Error(), "nats_listen_auth") {
		t.Fatalf("error %q, want one naming nats_listen_auth", err)
	}
}

// TestListenerTokenAndNKey proves the other ways to log in to the listener.
func TestListenerTokenAndNKey(t *testing.T) {
	t.Run("token", func(t *testing.T) {
		_, url := openListener(t, config.NATSListenAuth{Token: "t0ken"})
		mustRefuseRaw(t, url, []string{"authorization"})
		mustRefuseRaw(t, url, []string{"authorization"}, nats.Token("nope"))
		mustOpen(t, url, config.NATSAuth{Token: "t0ken"})
	})
	t.Run("nkey", func(t *testing.T) {
		user, other := newNKeySeedFile(t), newNKeySeedFile(t)
		_, url := openListener(t, config.NATSListenAuth{NKeyFile: user.file})
		mustRefuseRaw(t, url, []string{"authorization"})
		mustRefuse(t, url, config.NATSAuth{NKeyFile: other.file}, "authorization")
		mustOpen(t, url, config.NATSAuth{NKeyFile: user.file})
	})
}

// TestListenerTLS proves a TLS listener: a gateway trusting the CA gets in
// with the credentials, a client that does not trust it is refused, and
// with a CA for clients (mTLS) a client certificate is required.
func TestListenerTLS(t *testing.T) {
	f := newTLSFixture(t)
	t.Run("tls with password", func(t *testing.T) {
		_, url := openListener(t, config.NATSListenAuth{User: "pushd", Password: "l1sten",
			CertFile: f.serverCertFile, KeyFile: f.serverKeyFile})
		if !strings.HasPrefix(url, "tls://") {
			t.Fatalf("client URL %s, want tls://", url)
		}
		mustBeTLS(t, mustOpen(t, url, config.NATSAuth{User: "pushd", Password: "l1sten", CAFile: f.caFile}))
		mustRefuse(t, url, config.NATSAuth{User: "pushd", Password: "l1sten"}, "certificate")
		pool := x509.NewCertPool()
		ca, _ := os.ReadFile(f.caFile)
		pool.AppendCertsFromPEM(ca)
		mustRefuseRaw(t, url, []string{"authorization"}, nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	})
	t.Run("mutual tls", func(t *testing.T) {
		_, url := openListener(t, config.NATSListenAuth{CertFile: f.serverCertFile, KeyFile: f.serverKeyFile, CAFile: f.caFile})
		mustBeTLS(t, mustOpen(t, url, config.NATSAuth{CAFile: f.caFile, CertFile: f.clientCertFile, KeyFile: f.clientKeyFile}))
		mustRefuse(t, url, config.NATSAuth{CAFile: f.caFile}, "certificate", "tls", "eof", "broken pipe", "reset")
	})
}
