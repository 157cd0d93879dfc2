package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/internal/gws"
)

// scrape reads /metrics and returns the value of one series, e.g.
// `pushd_connections{app="app-key"}` (0 when absent).
func scrape(t *testing.T, s *server) map[string]float64 {
	t.Helper()
	resp, err := http.Get(s.APIURL() + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse exposition format: %v", err)
	}
	out := map[string]float64{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+strconv.Quote(l.GetValue()))
			}
			key := name
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.Gauge != nil:
				out[key] = m.Gauge.GetValue()
			case m.Counter != nil:
				out[key] = m.Counter.GetValue()
			case m.Histogram != nil:
				out[key+"_count"] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return out
}

func TestMetricsMove(t *testing.T) {
	s := startPushd(t, "")
	before := scrape(t, s)
	c, _ := connect(t, s, "app-key")
	c.send(`{"event":"pusher:subscribe","data":{"channel":"metered"}}`)
	c.expect("pusher_internal:subscription_succeeded")
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", `{"name":"e","channel":"metered","data":"x"}`)
	c.expect("e")
	apiCall(t, s, "app-key", "wrong-secret", http.MethodPost, "/apps/1/events", nil, `{"name":"e","channel":"metered","data":"x"}`)
	after := scrape(t, s)
	checks := []struct {
		series string
		delta  float64
	}{
		{`pushd_connections{app="app-key"}`, 1},
		{`pushd_connections_opened_total{app="app-key"}`, 1},
		{`pushd_subscriptions{app="app-key"}`, 1},
		{`pushd_channels{app="app-key"}`, 1},
		{`pushd_events_received_total{app="app-key",source="api"}`, 1},
		{`pushd_events_delivered_total{app="app-key"}`, 1},
		{`pushd_http_requests_total{code="200",endpoint="/apps/{app}/events"}`, 1},
		{`pushd_http_requests_total{code="401",endpoint="/apps/{app}/events"}`, 1},
		{`pushd_delivery_latency_seconds_count`, 1},
	}
	for _, ch := range checks {
		if got := after[ch.series] - before[ch.series]; got != ch.delta {
			t.Errorf("%s moved by %v, want %v", ch.series, got, ch.delta)
		}
	}
	if after["pushd_nats_connected"] != 1 {
		t.Errorf("pushd_nats_connected = %v, want 1", after["pushd_nats_connected"])
	}
	if after[`pushd_websocket_sent_bytes_total{app="app-key"}`] <= before[`pushd_websocket_sent_bytes_total{app="app-key"}`] {
		t.Error("sent bytes did not grow")
	}
}

func TestAPIRateLimitAndOrigins(t *testing.T) {
	s := startPushd(t, "")
	got429 := false
	for i := 0; i < 10 && !got429; i++ {
		q := protocol.SignRequest("quota-key", "quota-secret", http.MethodGet, "/apps/8/channels", nil, nil, time.Now())
		resp, err := http.Get(s.APIURL() + "/apps/8/channels?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			got429 = true
			if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra < 1 {
				t.Fatalf("429 without a Retry-After in seconds: %q", resp.Header.Get("Retry-After"))
			}
		}
	}
	if !got429 {
		t.Fatal("10 quick API calls at 3/s: no 429")
	}
	bad := dialWith(t, s.WSURL("quota-key"), http.Header{"Origin": {"https://evil.example"}}, nil)
	if code := errorCode(t, bad.expect("pusher:error")); code != protocol.CodeUnauthorized {
		t.Fatalf("foreign origin: error %d, want 4009", code)
	}
	bad.expectClose(protocol.CodeUnauthorized, 5*time.Second)
	good := dialWith(t, s.WSURL("quota-key"), http.Header{"Origin": {"https://good.example"}}, nil)
	good.established()
}

// dialWith dials with extra headers and an optional TLS config.
func dialWith(t *testing.T, url string, h http.Header, tc *tls.Config) *rawClient {
	t.Helper()
	c := &rawClient{t: t, frames: make(chan []byte, 1024), closed: make(chan uint16, 1)}
	conn, _, err := gws.NewClient(rawHandler{c: c}, &gws.ClientOption{Addr: url, RequestHeader: h, TlsConfig: tc, HandshakeTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	c.conn = conn
	go conn.ReadLoop()
	t.Cleanup(func() { conn.WriteClose(1000, nil) })
	return c
}

// writeCert writes a self-signed certificate for 127.0.0.1 with a serial.
func writeCert(t *testing.T, dir string, serial int64) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "pushd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile+".tmp", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	os.Rename(certFile+".tmp", certFile)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLSAndReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := writeCert(t, dir, 1)
	s := startPushdTLS(t, certFile, keyFile, pool)
	c := dialWith(t, "wss://"+s.WSAddr+"/app/app-key", nil, &tls.Config{RootCAs: pool})
	c.established()
	c.send(`{"event":"pusher:subscribe","data":{"channel":"secure"}}`)
	c.expect("pusher_internal:subscription_succeeded")
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	body := `{"name":"e","channel":"secure","data":"over tls"}`
	q := protocol.SignRequest("app-key", "app-secret", http.MethodPost, "/apps/1/events", nil, []byte(body), time.Now())
	resp, err := hc.Post("https://"+s.APIAddr+"/apps/1/events?"+q.Encode(), "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("https trigger: %v %v", err, resp)
	}
	resp.Body.Close()
	c.expect("e")

	// A new certificate is picked up on SIGHUP; open connections stay.
	_, _, pool2 := writeCert(t, dir, 2)
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the new certificate", func() bool {
		conn, err := tls.Dial("tcp", s.APIAddr, &tls.Config{RootCAs: pool2})
		if err != nil {
			return false
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64() == 2
	})
	c.send(`{"event":"pusher:ping","data":{}}`)
	c.expect("pusher:pong")
}

// startPushdTLS starts the server with TLS on both ports (and args);
// readiness is polled over https.
func startPushdTLS(t *testing.T, certFile, keyFile string, pool *x509.CertPool, args ...string) *server {
	t.Helper()
	dir := t.TempDir()
	s := &server{
		WSAddr:  "127.0.0.1:" + strconv.Itoa(freePort(t)),
		APIAddr: "127.0.0.1:" + strconv.Itoa(freePort(t)),
		DataDir: filepath.Join(dir, "data"),
		log:     &syncBuffer{},
	}
	cfg := filepath.Join(dir, "pushd.yaml")
	os.WriteFile(cfg, []byte(testApps), 0o600)
	s.ConfigPath = cfg
	s.tls = &tls.Config{RootCAs: pool}
	s.start(t, append([]string{"--config", cfg, "--tls-cert", certFile, "--tls-key", keyFile}, args...))
	return s
}

// TestConfigReload changes a limit in the config file and sends SIGHUP: the
// open connection stays and the new limit applies to it and to the API.
func TestConfigReload(t *testing.T) {
	s := startPushd(t, "")
	c, sid := connect(t, s, "app-key")
	c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": "private-r", "auth": protocol.ChannelAuth("app-key", "app-secret", sid, "private-r", "")}})
	c.expect("pusher_internal:subscription_succeeded")
	big := `{"name":"e","channel":"private-r","data":"` + strings.Repeat("x", 300) + `"}`
	trigger(t, s, "app-key", "app-secret", "/apps/1/events", big)
	c.expect("e")

	cfg, _ := os.ReadFile(s.ConfigPath)
	cfg = bytes.Replace(cfg, []byte("secret: app-secret\n"), []byte("secret: app-secret\n    max_event_bytes: 200\n"), 1)
	os.WriteFile(s.ConfigPath, cfg, 0o600)
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the reloaded limit", func() bool {
		status, _ := apiCall(t, s, "app-key", "app-secret", http.MethodPost, "/apps/1/events", nil, big)
		return status == http.StatusRequestEntityTooLarge
	})
	c.send(`{"event":"client-big","channel":"private-r","data":"` + strings.Repeat("y", 300) + `"}`)
	f := c.next()
	for f.Event == "e" { // accepted while the poll above waited for the reload
		f = c.next()
	}
	if f.Event != "pusher:error" {
		t.Fatalf("got %s, want pusher:error", f.raw)
	}
	if code := errorCode(t, f); code != protocol.CodeInvalidMessage {
		t.Fatalf("client event over the reloaded limit: %d, want 4300", code)
	}
	// The new limits apply a moment before the line is written.
	waitFor(t, "the reload logged", func() bool { return strings.Contains(s.log.String(), "configuration reloaded") })
}

// TestGeneratedAppSecretShownOnce: with no apps configured pushd generates
// one and prints its secret on the start that created it; a restart on the
// same data dir serves the same app but prints only where the secret is.
func TestGeneratedAppSecretShownOnce(t *testing.T) {
	dir := t.TempDir()
	s := &server{
		WSAddr:  "127.0.0.1:" + strconv.Itoa(freePort(t)),
		APIAddr: "127.0.0.1:" + strconv.Itoa(freePort(t)),
		DataDir: filepath.Join(dir, "data"),
		log:     &syncBuffer{},
	}
	s.start(t, nil)
	b, err := os.ReadFile(filepath.Join(s.DataDir, "app.json"))
	if err != nil {
		t.Fatal(err)
	}
	var gen struct{ Key, Secret string }
	if err := json.Unmarshal(b, &gen); err != nil || gen.Secret == "" {
		t.Fatalf("data/app.json: %s (%v), want the generated key and secret", b, err)
	}
	// The banner is printed just after the listeners open, so /readyz can
	// answer before it is complete.
	waitFor(t, "the first start's banner with the generated secret", func() bool {
		return strings.Contains(s.log.String(), "secret="+gen.Secret)
	})
	// The banner gives the generated app's real URL (issue 15: it printed
	// a literal {app_key}).
	if want := "  websocket  ws://" + s.WSAddr + "/app/" + gen.Key + "\n"; !strings.Contains(s.log.String(), want) {
		t.Fatalf("banner:\n%s\nwant the line %q", s.log.String(), want)
	}
	s.restart(t)
	// The restart's banner is the second one in the log.
	waitFor(t, "the restart's banner", func() bool {
		l := s.log.String()
		return strings.Count(l, "pushd ready") == 2 && strings.Contains(l[strings.LastIndex(l, "pushd ready"):], "key="+gen.Key)
	})
	second := s.log.String()[strings.LastIndex(s.log.String(), "pushd ready"):]
	if !strings.Contains(second, "key="+gen.Key) || strings.Contains(second, gen.Secret) {
		t.Fatalf("restart banner shows the secret or not the key:\n%s", second)
	}
}

// TestRefusedSubscriptionLogged: a refused subscription is logged with the
// app, socket, channel and reason (docs/operations.md), never with the
// signature that was sent or the one expected.
func TestRefusedSubscriptionLogged(t *testing.T) {
	s := startPushd(t, "")
	c, sid := connect(t, s, "app-key")
	sent := "app-key:" + strings.Repeat("ab", 32)
	expected := protocol.ChannelAuth("app-key", "app-secret", sid, "private-logged", "")
	c.sendJSON(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": "private-logged", "auth": sent}})
	c.expect("pusher:subscription_error")
	waitFor(t, "the refusal in the log", func() bool {
		l := s.log.String()
		return strings.Contains(l, "subscription refused") && strings.Contains(l, "channel=private-logged") &&
			strings.Contains(l, "socket_id="+sid) && strings.Contains(l, "type=AuthError")
	})
	if l := s.log.String(); strings.Contains(l, sent[len("app-key:"):]) || strings.Contains(l, expected[len("app-key:"):]) {
		t.Fatal("the log holds a signature")
	}
}
