package main

import (
	"flag"
	"strconv"

	"github.com/pushd/pushd/config"
)

// consoleFlags turn the debug console on from the command line or the
// environment (PUSHD_CONSOLE_PASSWORD, PUSHD_CONSOLE_WITH_SECRET); each
// one given replaces the file's console_password or console_with_secret.
type consoleFlags struct {
	password   string
	withSecret optBool
}

func (c *consoleFlags) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.password, "console-password", "", "turn on the debug console at /console on the API port, behind HTTP Basic auth with this password (any user name)")
	fs.Var(&c.withSecret, "console-with-secret", "let each app's key and secret log in to that app's console (true or false)")
}

// apply puts the console settings given into cfg.
func (c *consoleFlags) apply(cfg *config.Config) {
	if c.password != "" {
		cfg.ConsolePassword = c.password
	}
	if c.withSecret.set {
		cfg.ConsoleWithSecret = c.withSecret.v
	}
}

// optBool is a boolean flag that knows whether it was given, so that
// --console-with-secret=false can turn off what the file turned on.
type optBool struct{ set, v bool }

func (b *optBool) String() string {
	if b == nil || !b.set {
		return ""
	}
	return strconv.FormatBool(b.v)
}

func (b *optBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	b.set, b.v = true, v
	return nil
}

// IsBoolFlag lets --console-with-secret stand alone for true.
func (b *optBool) IsBoolFlag() bool { return true }
