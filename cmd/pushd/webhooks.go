package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/webhook"
)

const webhooksUsage = `usage: pushd webhooks failed|replay [--app KEY] [--since T] [--limit N] [--json] [--api-url URL] [server flags]

  failed   lists the webhook batches that exhausted their retries (the dead letters)
  replay   sends them again, once each, in order per endpoint, and removes the delivered ones

The command asks the running server over its HTTP API port, signing each request with the
app's key and secret: give it the server's configuration (--config, or the flags and PUSHD_*
variables the server runs with, or its --data-dir for the generated app).
--since takes an RFC 3339 time, unix seconds, or a duration back from now (90m).`

// webhooksCommand runs `pushd webhooks failed|replay`. It reaches the
// dead letters through the running server's HTTP API rather than NATS: the
// API port is open wherever the server runs (an embedded NATS has no
// listener unless nats_listen is set), the requests are signed with the
// app's own credentials, which the configuration already holds, and the
// server does the sending with the endpoints and secrets it runs with.
func webhooksCommand(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	if len(args) == 0 || (args[0] != "failed" && args[0] != "replay") {
		return errors.New(webhooksUsage)
	}
	verb := args[0]
	fs := flag.NewFlagSet("pushd webhooks "+verb, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var s settings
	s.flags(fs)
	appKey := fs.String("app", "", "only this app (its key); default: every app of the configuration")
	since := fs.String("since", "", "only batches that failed since then: RFC 3339, unix seconds, or a duration back from now")
	limit := fs.Int("limit", 1000, "at most this many batches per request")
	apiURL := fs.String("api-url", "", "the server's HTTP API (default: http(s)://api_addr)")
	asJSON := fs.Bool("json", false, "print the answers as JSON")
	if err := parseFlags(fs, args[1:], getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errors.New(webhooksUsage)
		}
		return fmt.Errorf("%w\n%s", err, webhooksUsage)
	}
	cfg, _, err := s.config(false)
	if err != nil {
		return err
	}
	params := url.Values{"limit": {strconv.Itoa(*limit)}}
	if *since != "" {
		t, err := webhook.ParseSince(*since, time.Now())
		if err != nil {
			return err
		}
		params.Set("since", t.UTC().Format(time.RFC3339))
	}
	c, err := newAPIClient(cfg, *apiURL)
	if err != nil {
		return err
	}
	var list []config.App
	for _, a := range cfg.Apps {
		if *appKey == "" || a.Key == *appKey {
			list = append(list, a)
		}
	}
	if len(list) == 0 {
		return fmt.Errorf("no app with key %q in the configuration", *appKey)
	}
	if verb == "failed" {
		return c.failed(ctx, list, params, *asJSON, out)
	}
	return c.replay(ctx, list, params, *asJSON, out)
}

// apiClient makes signed calls to a running server's HTTP API.
type apiClient struct {
	base string
	hc   *http.Client
}

func newAPIClient(cfg config.Config, base string) (*apiClient, error) {
	// A replay sends up to --limit batches, each bounded by the webhook
	// request timeout, before it answers.
	c := &apiClient{base: strings.TrimSuffix(base, "/"), hc: &http.Client{Timeout: 30 * time.Minute}}
	if c.base == "" {
		host, port, err := net.SplitHostPort(cfg.APIAddr)
		if err != nil {
			return nil, fmt.Errorf("api_addr %q: %w", cfg.APIAddr, err)
		}
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			host = "127.0.0.1"
		}
		scheme := "http"
		if cfg.TLSCert != "" {
			scheme = "https"
		}
		c.base = scheme + "://" + net.JoinHostPort(host, port)
	}
	if cfg.TLSCert != "" {
		// The server's own certificate is trusted too (a self-signed one).
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if pem, err := os.ReadFile(cfg.TLSCert); err == nil {
			pool.AppendCertsFromPEM(pem)
		}
		c.hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	}
	return c, nil
}

// call makes a signed request for app and decodes a 200 answer into v.
func (c *apiClient) call(ctx context.Context, app config.App, method, pattern string, params url.Values, v any) error {
	id := app.ID
	if id == "" {
		id = "0" // an app without an id answers to any
	}
	path := strings.Replace(pattern, "{app}", url.PathEscape(id), 1)
	q := protocol.SignRequest(app.Key, app.Secret, method, path, params, nil, time.Now())
	req, err := http.NewRequestWithContext(ctx, method, c.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w (is the server running, and is this its API address?)", method, c.base+path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		_ = json.Unmarshal(raw, &e)
		return fmt.Errorf("app %s: %s %s: %d %s", app.Key, method, path, resp.StatusCode, e.Error)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("app %s: %s %s: %w", app.Key, method, path, err)
	}
	return nil
}

func (c *apiClient) failed(ctx context.Context, apps []config.App, params url.Values, asJSON bool, out io.Writer) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	n := 0
	for _, a := range apps {
		var ans webhook.FailedAnswer
		if err := c.call(ctx, a, http.MethodGet, webhook.PathFailed, params, &ans); err != nil {
			return err
		}
		if asJSON {
			if err := json.NewEncoder(out).Encode(ans); err != nil {
				return err
			}
			continue
		}
		for _, dl := range ans.Failed {
			if n == 0 {
				fmt.Fprintln(tw, "ID\tAPP\tENDPOINT\tDELIVERY\tSEQ\tEVENTS\tCHANNELS\tFAILED AT\tATTEMPTS\tERROR")
			}
			n++
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d-%d\t%d\t%s\t%s\t%d\t%s\n", dl.ID, dl.App, dl.Endpoint, dl.Delivery,
				dl.FirstSeq, dl.LastSeq, dl.Events, strings.Join(dl.Channels, ","), dl.FailedAt.Format(time.RFC3339), dl.Attempts, dl.Error)
		}
		if ans.More {
			fmt.Fprintf(tw, "(app %s has more; raise --limit or use --since)\n", a.Key)
		}
	}
	if !asJSON && n == 0 {
		fmt.Fprintln(tw, "no failed webhooks")
	}
	return tw.Flush()
}

func (c *apiClient) replay(ctx context.Context, apps []config.App, params url.Values, asJSON bool, out io.Writer) error {
	failed := 0
	for _, a := range apps {
		var total webhook.ReplayResult
		for {
			var res webhook.ReplayResult
			if err := c.call(ctx, a, http.MethodPost, webhook.PathReplay, params, &res); err != nil {
				return err
			}
			total.Replayed += res.Replayed
			total.Failed += res.Failed
			total.Kept += res.Kept
			total.Errors = append(total.Errors, res.Errors...)
			// More to read, and this round got through: go on.
			if !res.More || res.Replayed == 0 || res.Failed > 0 {
				total.More = res.More
				break
			}
		}
		failed += total.Failed
		if asJSON {
			if err := json.NewEncoder(out).Encode(total); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(out, "app %s: %d replayed, %d failed again, %d kept behind them\n", a.Key, total.Replayed, total.Failed, total.Kept)
		for _, e := range total.Errors {
			fmt.Fprintln(out, "  ", e)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d batches failed again; they stay in the dead letters", failed)
	}
	return nil
}
