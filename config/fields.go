package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// validateFields checks each setting on its own: a value its field cannot
// take (a log level that does not exist, a negative limit, an address
// without a port) would otherwise start silently. Every problem is
// reported, each naming its field (apps by index and key); a zero value
// means "the default" and always passes.
func (c *Config) validateFields() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
	}
	switch strings.ToLower(c.LogLevel) {
	case "", "debug", "info", "warn", "error":
	default:
		bad("log_level", "%q is not debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "", "text", "json":
	default:
		bad("log_format", "%q is not text or json", c.LogFormat)
	}
	for _, a := range []struct{ field, addr string }{
		{"ws_addr", c.WSAddr}, {"api_addr", c.APIAddr}, {"nats_listen", c.NATSListen}, {"pprof_addr", c.PprofAddr},
	} {
		if err := checkListenAddr(a.addr); err != nil {
			bad(a.field, "%v", err)
		}
	}
	if err := checkNodeName(c.NodeName); err != nil {
		bad("node_name", "%v", err)
	}
	if err := checkNATSURLs(c.NATSURL); err != nil {
		bad("nats_url", "%v", err)
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"pong_timeout", c.PongTimeout}, {"shutdown_timeout", c.ShutdownTimeout}, {"webhook_dead_letter_max_age", c.WebhookDeadLetterMaxAge}} {
		if d.v < 0 {
			bad(d.field, "must not be negative, got %s", d.v)
		}
	}
	if c.APIAuthFailuresPerSec < 0 {
		bad("api_auth_failures_per_second", "must not be negative, got %d", c.APIAuthFailuresPerSec)
	}
	for i, a := range c.Apps {
		for _, err := range a.fieldErrors() {
			errs = append(errs, fmt.Errorf("apps[%d] (%s): %w", i, appName(a), err))
		}
	}
	return errors.Join(errs...)
}

// appName names an app in an error: its key, never its secret.
func appName(a App) string {
	if a.Key == "" {
		return "no key"
	}
	return strconv.Quote(a.Key)
}

// fieldErrors are the app's settings that no app may have, each a
// *FieldError naming the setting.
func (a App) fieldErrors() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fieldErr(field, "%s: "+format, append([]any{field}, args...)...))
	}
	// The key is a path segment (/app/{key}) and the id one of the API's
	// (/apps/{id}/…): a character that ends or escapes a segment would
	// make the app unreachable.
	for _, f := range []struct{ field, v string }{{"key", a.Key}, {"id", a.ID}} {
		if strings.ContainsAny(f.v, "/?#% \t\r\n") {
			bad(f.field, "%q has a character that cannot be in a URL path segment (/ ? # %% or white space)", f.v)
		}
	}
	for j, o := range a.AllowedOrigins {
		if err := checkOrigin(o); err != nil {
			bad(fmt.Sprintf("allowed_origins[%d]", j), "%v", err)
		}
	}
	for _, n := range []struct {
		field string
		v     int
	}{
		{"activity_timeout", a.ActivityTimeout}, {"max_connections", a.MaxConnections}, {"max_event_bytes", a.MaxEventBytes},
		{"max_channels_per_event", a.MaxChannelsPerEvent}, {"max_batch_events", a.MaxBatchEvents},
		{"max_channel_name_length", a.MaxChannelNameLength}, {"max_event_name_length", a.MaxEventNameLength},
		{"max_channels_per_socket", a.MaxChannelsPerSocket}, {"client_events_per_second", a.ClientEventsPerSec},
		{"api_requests_per_second", a.APIRequestsPerSec}, {"max_presence_members", a.MaxPresenceMembers},
		{"max_user_info_bytes", a.MaxUserInfoBytes}, {"max_user_id_length", a.MaxUserIDLength},
	} {
		if n.v < 0 {
			bad(n.field, "must not be negative, got %d", n.v)
		}
	}
	if a.HistoryMaxBytes < 0 {
		bad("history_max_bytes", "must not be negative, got %d", a.HistoryMaxBytes)
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"history_max_age", a.HistoryMaxAge}, {"cache_ttl", a.CacheTTL}, {"user_authentication_timeout", a.UserAuthTimeout}} {
		if d.v < 0 {
			bad(d.field, "must not be negative, got %s", d.v)
		}
	}
	return errs
}

// checkListenAddr accepts "" (the default or off) and host:port with a
// port number (0 picks a free one); the host may be empty (every address).
func checkListenAddr(addr string) error {
	if addr == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. 127.0.0.1:3131 or :3131)", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: the port must be a number from 0 to 65535", addr)
	}
	return nil
}

// checkNATSURLs accepts "" (embedded) and a comma-separated list of NATS
// server URLs (nats://, tls://, ws://, wss://, or host:port).
func checkNATSURLs(list string) error {
	if list == "" {
		return nil
	}
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if !strings.Contains(s, "://") {
			s = "nats://" + s
		}
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return fmt.Errorf("%q is not a NATS URL (nats://host:4222, several separated by commas)", redactUserinfo(s))
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return fmt.Errorf("%q: the scheme must be nats, tls, ws or wss", redactURL(u))
		}
	}
	return nil
}

// redactUserinfo drops what sits before an @ (a user and password) from a
// string that is not a URL.
func redactUserinfo(s string) string {
	if i := strings.LastIndex(s, "@"); i >= 0 {
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			return s[:j+3] + "…@" + s[i+1:]
		}
		return "…@" + s[i+1:]
	}
	return s
}

// checkOrigin accepts "*" and an origin as a browser sends it:
// scheme://host[:port], with no path, query or trailing slash (one would
// never match the Origin header, which carries none).
func checkOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("%q is not an origin: use scheme://host[:port], e.g. https://example.com, or *", o)
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q: an origin has no path, query or trailing slash (the browser sends %s://%s)", o, u.Scheme, u.Host)
	}
	return nil
}
