package bus

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// tlsFixture is a throwaway CA with a server certificate for 127.0.0.1 and a
// client certificate, generated per test; both live in files, as an
// operator would configure them.
type tlsFixture struct {
	caFile, clientCertFile, clientKeyFile string
	serverCertFile, serverKeyFile         string

	caPool *x509.CertPool
	server tls.Certificate
}

func newTLSFixture(t *testing.T) *tlsFixture {
	t.Helper()
	dir := t.TempDir()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "pushd test CA"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER := issue(t, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatalf("parse CA: %v", err)
	}
	f := &tlsFixture{caPool: x509.NewCertPool()}
	f.caPool.AddCert(ca)
	f.caFile = writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER)

	srvKey := newKey(t)
	srvDER := issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, &srvKey.PublicKey, caKey)
	f.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	f.serverCertFile = writePEM(t, dir, "server.pem", "CERTIFICATE", srvDER)
	srvKeyDER, err := x509.MarshalPKCS8PrivateKey(srvKey)
	if err != nil {
		t.Fatalf("marshal server key: %v", err)
	}
	f.serverKeyFile = writePEM(t, dir, "server-key.pem", "PRIVATE KEY", srvKeyDER)

	cliKey := newKey(t)
	cliDER := issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "pushd test client"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca, &cliKey.PublicKey, caKey)
	f.clientCertFile = writePEM(t, dir, "client.pem", "CERTIFICATE", cliDER)
	keyDER, err := x509.MarshalPKCS8PrivateKey(cliKey)
	if err != nil {
		t.Fatalf("marshal client key: %v", err)
	}
	f.clientKeyFile = writePEM(t, dir, "client-key.pem", "PRIVATE KEY", keyDER)
	return f
}

// serverTLS is the NATS server's TLS configuration; requireClient demands a
// client certificate signed by the CA.
func (f *tlsFixture) serverTLS(requireClient bool) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{f.server}, MinVersion: tls.VersionTLS12}
	if requireClient {
		c.ClientCAs = f.caPool
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	return k
}

// issue signs tmpl with the parent's key, valid for an hour around now.
func issue(t *testing.T, tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) []byte {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatalf("serial: %v", err)
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatalf("create certificate %s: %v", tmpl.Subject.CommonName, err)
	}
	return der
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
	return p
}
