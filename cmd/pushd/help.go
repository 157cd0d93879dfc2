package main

import (
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/pushd/pushd/config"
)

// helpRequest is parseFlags' answer to --help or -h: the flags to
// describe. It unwraps to flag.ErrHelp.
type helpRequest struct{ fs *flag.FlagSet }

func (*helpRequest) Error() string { return "--help requested" }

func (*helpRequest) Unwrap() error { return flag.ErrHelp }

// configDoc is the reference of every setting.
const configDoc = "docs/configuration.md (https://github.com/pushd/pushd/blob/main/docs/configuration.md)"

// commandLineOnly are the flags without an environment twin: a stray
// variable must not turn them on (version.go).
var commandLineOnly = map[string]bool{"version": true, "healthcheck": true}

// defaultInUsage is the "(default …)" some usage texts carry; help shows
// defaults in a column of their own.
var defaultInUsage = regexp.MustCompile(`\s*\(default[: ][^)]*\)`)

// flagDefaults are the defaults shown for flags whose zero value means
// "take the default" (the config's own defaults, so they cannot drift).
func flagDefaults() map[string]string {
	var d config.Config
	d.Defaults()
	return map[string]string{
		"ws-addr": d.WSAddr, "api-addr": d.APIAddr, "data-dir": d.DataDir,
		"nats-url":   "(embedded NATS)",
		"log-level":  d.LogLevel,
		"log-format": d.LogFormat,
		"app-compat": "pusher (webman for the generated app)", "webhook-names": "as the app's compat",
		"console-with-secret": "false",
	}
}

// print writes the usage: the commands, where a setting comes from, and
// every flag with its environment twin and default.
func (h *helpRequest) print(w io.Writer) {
	fmt.Fprintf(w, `pushd: a Pusher Channels (protocol 7) and webman/push compatible push server on NATS JetStream.

Usage:
  pushd [flags]                      run the server
  pushd check-config FILE            check a config file as a start would, then exit (1: it has problems)
  pushd webhooks failed|replay ...   list or replay webhook dead letters (pushd webhooks failed -h)
  pushd --version                    print the version and exit

Where a setting comes from: a flag wins over its PUSHD_* environment variable, which wins
over the config file (--config); a setting given nowhere takes its default. The file holds
the apps and every setting; the flags below are the common ones.
Every setting, with its type, default, flag and variable: %s

Flags:
`, configDoc)
	defaults := flagDefaults()
	h.fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		head := "  --" + f.Name
		if name != "" {
			head += " " + name
		}
		env := envName(f.Name)
		if commandLineOnly[f.Name] {
			env = "(command line only)"
		}
		line := fmt.Sprintf("%-34s %-28s", head, env)
		if d := defaults[f.Name]; d != "" {
			line += " default " + d
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
		fmt.Fprintf(w, "        %s\n", defaultInUsage.ReplaceAllString(usage, ""))
	})
}
