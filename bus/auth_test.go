package bus

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/pushd/pushd/config"
)

// openLimit bounds every Open: a refused connection must fail, not retry.
const openLimit = 15 * time.Second

// startNATS runs an in-process nats-server with JetStream on a random port,
// secured as o says, until the test ends.
func startNATS(t *testing.T, o server.Options) *server.Server {
	t.Helper()
	o.Host, o.Port, o.JetStream, o.StoreDir = "127.0.0.1", -1, true, t.TempDir()
	o.NoLog, o.NoSigs = true, true
	s, err := server.NewServer(&o)
	if err != nil {
		t.Fatalf("new nats server: %v", err)
	}
	go s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready within 10s")
	}
	return s
}

// openAuth opens a bus on url with auth and fails the test when Open does
// not return within openLimit. A bus that opens is closed with the test.
func openAuth(t *testing.T, url string, auth config.NATSAuth) (*Bus, chan Delivery, error) {
	t.Helper()
	got := make(chan Delivery, 10)
	ctx, cancel := context.WithTimeout(context.Background(), openLimit)
	defer cancel()
	type result struct {
		b   *Bus
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := Open(ctx, Options{URL: url, Name: "test", Auth: auth}, func(d Delivery) { got <- d })
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		if r.b != nil {
			t.Cleanup(r.b.Close)
		}
		return r.b, got, r.err
	case <-ctx.Done():
		t.Fatalf("Open(%s) did not return within %v", url, openLimit)
		return nil, nil, nil
	}
}

// mustOpen opens a bus that must connect, and proves it works end to end.
func mustOpen(t *testing.T, url string, auth config.NATSAuth) *Bus {
	t.Helper()
	b, got, err := openAuth(t, url, auth)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	roundTrip(t, b, got)
	return b
}

// roundTrip creates an app stream, subscribes a channel, stores an event
// and requires it back through the handler with its stream sequence.
func roundTrip(t *testing.T, b *Bus, got chan Delivery) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const app, ch = "auth-app", "private-auth"
	if err := b.EnsureApp(ctx, AppStream{Key: app, MaxAge: time.Hour, MaxBytes: 1 << 20}); err != nil {
		t.Fatalf("ensure app: %v", err)
	}
	sub, err := b.Subscribe(app, ch)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer sub.Unsubscribe()
	seqs, err := b.Publish(ctx, app, Outgoing{Channel: ch, Frame: []byte("hello")})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if d := next(t, got); d.App != app || d.Channel != ch || string(d.Frame) != "hello" || d.Seq != seqs[0] {
		t.Fatalf("delivery: got %+v, want frame hello seq %d on %s/%s", d, seqs[0], app, ch)
	}
}

// mustRefuse requires Open to fail with an error naming one of the causes
// (lower case; matched case-insensitively).
func mustRefuse(t *testing.T, url string, auth config.NATSAuth, causes ...string) {
	t.Helper()
	b, _, err := openAuth(t, url, auth)
	if err == nil {
		t.Fatalf("open %s succeeded (status %s), want an error mentioning %q", url, b.nc.Status(), causes)
	}
	for _, c := range causes {
		if strings.Contains(strings.ToLower(err.Error()), c) {
			t.Logf("refused: %v", err)
			return
		}
	}
	t.Fatalf("open %s: error %q does not mention any of %q", url, err, causes)
}

// mustBeTLS requires the bus's connection to have completed a TLS handshake.
func mustBeTLS(t *testing.T, b *Bus) {
	t.Helper()
	st, err := b.nc.TLSConnectionState()
	if err != nil || !st.HandshakeComplete {
		t.Fatalf("connection is not TLS: %v", err)
	}
}

// TestAuthUserPassword proves user/password logs in and that a wrong or
// missing password is refused with an authorization error.
func TestAuthUserPassword(t *testing.T) {
	s := startNATS(t, server.Options{Username: "pushd", Password: "s3cret"})
	t.Run("accepted", func(t *testing.T) {
		mustOpen(t, s.ClientURL(), config.NATSAuth{User: "pushd", Password: "s3cret"})
	})
	t.Run("wrong password", func(t *testing.T) {
		mustRefuse(t, s.ClientURL(), config.NATSAuth{User: "pushd", Password: "wrong"}, "authorization")
	})
	t.Run("no credentials", func(t *testing.T) {
		mustRefuse(t, s.ClientURL(), config.NATSAuth{}, "authorization")
	})
}

// TestAuthToken proves a token logs in and that a wrong token is refused.
func TestAuthToken(t *testing.T) {
	s := startNATS(t, server.Options{Authorization: "t0ken"})
	t.Run("accepted", func(t *testing.T) {
		mustOpen(t, s.ClientURL(), config.NATSAuth{Token: "t0ken"})
	})
	t.Run("wrong token", func(t *testing.T) {
		mustRefuse(t, s.ClientURL(), config.NATSAuth{Token: "nope"}, "authorization")
	})
}

// TestAuthNKey proves an NKey seed file logs in as the server's NKey user
// and that the seed of another user is refused.
func TestAuthNKey(t *testing.T) {
	user, other := newNKeySeedFile(t), newNKeySeedFile(t)
	s := startNATS(t, server.Options{Nkeys: []*server.NkeyUser{{Nkey: user.pub}}})
	t.Run("accepted", func(t *testing.T) {
		mustOpen(t, s.ClientURL(), config.NATSAuth{NKeyFile: user.file})
	})
	t.Run("unknown key", func(t *testing.T) {
		mustRefuse(t, s.ClientURL(), config.NATSAuth{NKeyFile: other.file}, "authorization")
	})
}

type nkeySeed struct{ pub, file string }

// newNKeySeedFile creates a user key pair and writes its seed to a file.
func newNKeySeedFile(t *testing.T) nkeySeed {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatalf("create nkey: %v", err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		t.Fatalf("nkey public key: %v", err)
	}
	seed, err := kp.Seed()
	if err != nil {
		t.Fatalf("nkey seed: %v", err)
	}
	file := filepath.Join(t.TempDir(), "user.nk")
	if err := os.WriteFile(file, seed, 0o600); err != nil {
		t.Fatalf("write seed: %v", err)
	}
	return nkeySeed{pub: pub, file: file}
}

// TestTLSWithCA proves a TLS connection verified with the configured CA
// works, and that without the CA the server's certificate is rejected.
func TestTLSWithCA(t *testing.T) {
	f := newTLSFixture(t)
	s := startNATS(t, server.Options{TLSConfig: f.serverTLS(false)})
	if !strings.HasPrefix(s.ClientURL(), "tls://") {
		t.Fatalf("client URL %s, want tls://", s.ClientURL())
	}
	t.Run("accepted", func(t *testing.T) {
		mustBeTLS(t, mustOpen(t, s.ClientURL(), config.NATSAuth{CAFile: f.caFile}))
	})
	t.Run("unknown CA", func(t *testing.T) {
		mustRefuse(t, s.ClientURL(), config.NATSAuth{}, "certificate")
	})
}

// TestTLSClientCert proves a client certificate signed by the CA is accepted
// by a server that requires one, and that omitting it is refused.
func TestTLSClientCert(t *testing.T) {
	f := newTLSFixture(t)
	s := startNATS(t, server.Options{TLSConfig: f.serverTLS(true), TLSVerify: true})
	t.Run("accepted", func(t *testing.T) {
		mustBeTLS(t, mustOpen(t, s.ClientURL(), config.NATSAuth{CAFile: f.caFile, CertFile: f.clientCertFile, KeyFile: f.clientKeyFile}))
	})
	t.Run("no client certificate", func(t *testing.T) {
		mustRefuse(t, s.ClientURL(), config.NATSAuth{CAFile: f.caFile}, "certificate")
	})
}

// TestTLSClosedHint proves the hint for a server closing a TLS connection
// right after the handshake (the timing-dependent form of a refused client
// certificate) names the client certificate, and stays off other errors.
func TestTLSClosedHint(t *testing.T) {
	closed := fmt.Errorf("%w: connection closed by remote after TLS handshake: %w", nats.ErrTLS, syscall.EPIPE)
	if h := tlsClosedHint(closed, config.NATSAuth{}); !strings.Contains(h, "cert_file") {
		t.Fatalf("no client certificate: hint %q, want one naming cert_file", h)
	}
	if h := tlsClosedHint(closed, config.NATSAuth{CertFile: "c.pem"}); !strings.Contains(h, "rejected the client certificate c.pem") {
		t.Fatalf("client certificate set: hint %q, want one naming c.pem", h)
	}
	for _, err := range []error{nats.ErrAuthorization, fmt.Errorf("%w: x509: unknown authority", nats.ErrTLS), syscall.EPIPE} {
		if h := tlsClosedHint(err, config.NATSAuth{}); h != "" {
			t.Fatalf("hint %q for %v, want none", h, err)
		}
	}
}
