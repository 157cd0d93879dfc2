package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pushd/pushd/config"
)

const appsUsage = `usage: pushd apps list|show|create|update|rotate|delete [KEY] [flags]

  list               the apps of the app store: key, id, enabled, source (never a secret)
  show KEY           one app's settings (never its secret)
  create             a new app; prints its key, id and secret (the secret is shown this once)
  update KEY         change the settings given; the others stay
  rotate KEY         a new secret (shown this once); the old one keeps working for --grace
  delete KEY         delete the app: its connections close with 4001 on every gateway

Settings (create, update): --set NAME=VALUE, repeated, with the names of an app in the config
file (max_connections=100, disabled=true, cache_ttl=10m, 'allowed_origins=["https://a.example"]':
a value that is JSON is taken as JSON, else as a string), or --settings '{"max_connections": 100}';
create also takes --key, --id and --secret (generated when left out).

  --server URL       the server's HTTP API (default: http(s)://api_addr of --config, or --api-addr)
  --token TOKEN      the admin token (default: PUSHD_ADMIN_TOKEN, or admin_token of --config)
  --json             print the server's JSON answer
  --if-match REV     (update, rotate, delete) only if the app is still at this revision
  --grace D          (rotate) how long the old secret keeps working (default 24h; 0s: not at all)
  --secret S         (create, rotate) this secret instead of a generated one (at least 16 bytes)`

// appsCommand runs `pushd apps …` against a running server's admin API.
func appsCommand(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	verbs := []string{"list", "show", "create", "update", "rotate", "delete"}
	if len(args) == 0 || !slices.Contains(verbs, args[0]) {
		return errors.New(appsUsage)
	}
	verb, args := args[0], args[1:]
	key := ""
	if verb != "list" && verb != "create" {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return fmt.Errorf("pushd apps %s: give the app's key: pushd apps %s KEY\n%s", verb, verb, appsUsage)
		}
		key, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("pushd apps "+verb, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var s settings
	s.flags(fs)
	var sets multiFlag
	fs.Var(&sets, "set", "NAME=VALUE, repeated")
	settingsJSON := fs.String("settings", "", "settings as a JSON object")
	server := fs.String("server", "", "the server's HTTP API")
	token := fs.String("token", "", "the admin token")
	asJSON := fs.Bool("json", false, "print the JSON answer")
	ifMatch := fs.String("if-match", "", "revision")
	grace := fs.String("grace", "", "rotate: grace period of the old secret")
	newKey := fs.String("key", "", "create: the app's key")
	newID := fs.String("id", "", "create: the app's id")
	secret := fs.String("secret", "", "create, rotate: the secret")
	if err := parseFlags(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errors.New(appsUsage)
		}
		return fmt.Errorf("%w\n%s", err, appsUsage)
	}
	cfg, err := s.clientConfig()
	if err != nil {
		return err
	}
	if *token == "" {
		*token = cfg.AdminToken
	}
	if *token == "" {
		return errors.New("pushd apps: no admin token: give --token, set PUSHD_ADMIN_TOKEN, or --config with admin_token")
	}
	c, err := newAPIClient(cfg, *server)
	if err != nil {
		return err
	}
	c.hc.Timeout = 30 * time.Second
	a := &adminClient{apiClient: c, token: *token, ifMatch: *ifMatch}
	path := "/admin/apps"
	if key != "" {
		path += "/" + url.PathEscape(key)
	}
	var body map[string]json.RawMessage
	switch verb {
	case "create", "update":
		if body, err = settingsBody(sets, *settingsJSON); err != nil {
			return err
		}
		if verb == "create" {
			for name, v := range map[string]string{"key": *newKey, "id": *newID, "secret": *secret} {
				if v != "" {
					body[name], _ = json.Marshal(v)
				}
			}
		}
	case "rotate":
		body = map[string]json.RawMessage{}
		if *grace != "" {
			body["grace"], _ = json.Marshal(*grace)
		}
		if *secret != "" {
			body["secret"], _ = json.Marshal(*secret)
		}
	}
	method := map[string]string{"list": http.MethodGet, "show": http.MethodGet, "create": http.MethodPost,
		"update": http.MethodPatch, "rotate": http.MethodPost, "delete": http.MethodDelete}[verb]
	if verb == "rotate" {
		path += "/rotate"
	}
	raw, err := a.call(ctx, method, path, body)
	if err != nil {
		return err
	}
	if *asJSON {
		_, err := out.Write(append(bytes.TrimSpace(raw), '\n'))
		return err
	}
	return printApps(out, verb, raw)
}

// clientConfig is what a command needs of the server's configuration (its
// API address, TLS certificate and admin token), without requiring apps.
func (s *settings) clientConfig() (config.Config, error) {
	var cfg config.Config
	if s.configFile != "" {
		var err error
		if cfg, err = config.Load(s.configFile); err != nil {
			return cfg, err
		}
	}
	for dst, v := range map[*string]string{&cfg.APIAddr: s.apiAddr, &cfg.TLSCert: s.tlsCert, &cfg.AdminToken: s.adminToken} {
		if v != "" {
			*dst = v
		}
	}
	cfg.Defaults()
	return cfg, nil
}

// settingsBody builds a JSON object from --settings and --set NAME=VALUE.
func settingsBody(sets []string, settingsJSON string) (map[string]json.RawMessage, error) {
	body := map[string]json.RawMessage{}
	if settingsJSON != "" {
		if err := json.Unmarshal([]byte(settingsJSON), &body); err != nil || body == nil {
			return nil, fmt.Errorf("--settings: want a JSON object of app settings: %v", err)
		}
	}
	for _, kv := range sets {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--set %q: want NAME=VALUE (max_connections=100)", kv)
		}
		if json.Valid([]byte(value)) && value != "" {
			body[name] = json.RawMessage(value)
		} else {
			body[name], _ = json.Marshal(value)
		}
	}
	return body, nil
}

// adminClient calls the admin API with the admin token.
type adminClient struct {
	*apiClient
	token, ifMatch string
}

// call makes a request and returns the body of a 2xx answer; any other is
// an error with the server's message (and the field it names).
func (a *adminClient) call(ctx context.Context, method, path string, body map[string]json.RawMessage) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.ifMatch != "" {
		req.Header.Set("If-Match", strconv.Quote(a.ifMatch))
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w (is the server running, and is this its API address?)", method, a.base+path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct{ Error, Field string }
		_ = json.Unmarshal(raw, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(raw))
		}
		if e.Field != "" {
			return nil, fmt.Errorf("%s %s: %d: %s (field %s)", method, path, resp.StatusCode, e.Error, e.Field)
		}
		return nil, fmt.Errorf("%s %s: %d: %s", method, path, resp.StatusCode, e.Error)
	}
	return raw, nil
}

// printApps prints an answer of the admin API as a table.
func printApps(out io.Writer, verb string, raw []byte) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if verb == "list" {
		var ans struct {
			Apps []struct {
				ID, Key, Source string
				Disabled        bool
			}
		}
		if err := json.Unmarshal(raw, &ans); err != nil {
			return fmt.Errorf("list answer: %w", err)
		}
		fmt.Fprintln(tw, "KEY\tID\tENABLED\tSOURCE")
		for _, a := range ans.Apps {
			fmt.Fprintf(tw, "%s\t%s\t%t\t%s\n", a.Key, orAny(a.ID), !a.Disabled, a.Source)
		}
		if len(ans.Apps) == 0 {
			fmt.Fprintln(tw, "(no apps)")
		}
		return tw.Flush()
	}
	if verb == "delete" {
		var ans struct{ Deleted, Warning string }
		if err := json.Unmarshal(raw, &ans); err != nil {
			return fmt.Errorf("delete answer: %w", err)
		}
		fmt.Fprintf(out, "deleted app %s\n", ans.Deleted)
		if ans.Warning != "" {
			fmt.Fprintln(out, "warning:", ans.Warning)
		}
		return nil
	}
	var ans struct {
		App                    json.RawMessage
		Secret                 string
		HasPreviousSecret      bool `json:"has_previous_secret"`
		EncryptionMasterKeySet bool `json:"encryption_master_key_set"`
		Revision               uint64
		Source                 string
		Created, Updated       string
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return fmt.Errorf("%s answer: %w", verb, err)
	}
	var app config.App
	if err := config.DecodeAppJSON(ans.App, &app, true); err != nil {
		return fmt.Errorf("%s answer: %w", verb, err)
	}
	switch verb {
	case "create":
		fmt.Fprintf(tw, "created app %s\n", app.Key)
	case "update":
		fmt.Fprintf(tw, "updated app %s\n", app.Key)
	case "rotate":
		fmt.Fprintf(tw, "rotated the secret of app %s\n", app.Key)
	}
	fmt.Fprintf(tw, "key\t%s\nid\t%s\n", app.Key, orAny(app.ID))
	if ans.Secret != "" {
		fmt.Fprintf(tw, "secret\t%s\t(shown this once: keep it now)\n", ans.Secret)
	}
	if ans.HasPreviousSecret {
		fmt.Fprintf(tw, "previous secret\tworks until %s\n", app.PreviousSecretExpires.Local().Format(time.RFC3339))
	}
	fmt.Fprintf(tw, "revision\t%d\nsource\t%s\ncreated\t%s\nupdated\t%s\n", ans.Revision, ans.Source, ans.Created, ans.Updated)
	if ans.EncryptionMasterKeySet {
		fmt.Fprintln(tw, "encryption master key\tset")
	}
	if verb == "show" || verb == "update" {
		printSettings(tw, ans.App, app)
	}
	return tw.Flush()
}

// printSettings lists an app's settings, sorted, each unset one with the
// default it takes.
func printSettings(w io.Writer, raw json.RawMessage, app config.App) {
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(raw, &fields)
	eff := app
	eff.Defaults()
	effRaw, _ := config.MarshalAppJSON(eff)
	var defaults map[string]json.RawMessage
	_ = json.Unmarshal(effRaw, &defaults)
	names := make([]string, 0, len(fields))
	for n := range fields {
		if n != "key" && n != "id" && n != "previous_secret_expires" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if d, ok := defaults[n]; ok && !bytes.Equal(d, fields[n]) {
			fmt.Fprintf(w, "%s\t%s\t(default: %s)\n", n, fields[n], d)
			continue
		}
		fmt.Fprintf(w, "%s\t%s\n", n, fields[n])
	}
}

func orAny(id string) string {
	if id == "" {
		return "(any)"
	}
	return id
}

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ", ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
