package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// The release build stamps these with -ldflags "-X main.version=… -X
// main.commit=… -X main.date=…" (Taskfile.yml, task release); a plain build
// leaves them empty and buildVersion falls back to what Go recorded.
var (
	version string
	commit  string
	date    string
)

// oneShot are the flags that answer and exit instead of starting the server.
// Only the command line turns them on: a stray PUSHD_VERSION or
// PUSHD_HEALTHCHECK in the environment must not stop a server.
type oneShot struct {
	version, healthcheck bool
}

func (o *oneShot) flags(fs *flag.FlagSet) {
	fs.BoolVar(&o.version, "version", false, "print the version, commit and build date, and exit")
	fs.BoolVar(&o.healthcheck, "healthcheck", false, "GET /readyz on the configured API address; exit 0 when ready, 1 otherwise (container HEALTHCHECK)")
}

// requested returns errVersion or a *healthcheckRequest when the command
// line (fs, parsed) asks for one, nil otherwise.
func (o *oneShot) requested(fs *flag.FlagSet, s *settings) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true }) // the command line only
	switch {
	case given["version"] && o.version:
		return errVersion
	case given["healthcheck"] && o.healthcheck:
		cfg, err := s.healthcheckConfig()
		if err != nil {
			return err
		}
		return &healthcheckRequest{cfg: cfg}
	}
	return nil
}

// errVersion is loadConfig's answer to --version.
var errVersion = errors.New("--version requested")

// buildVersion says which build this is: the stamped version, commit and
// date; else what the Go toolchain recorded (a `go install …@v1.2.3` knows
// its module version, a `go build` in a clone its commit); else "dev".
func buildVersion() string {
	v, c, d := version, commit, date
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && c == "":
				c = s.Value
			case s.Key == "vcs.time" && d == "":
				d = s.Value
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "pushd %s", v)
	if c != "" {
		fmt.Fprintf(&b, " commit %s", c)
	}
	if d != "" {
		fmt.Fprintf(&b, " built %s", d)
	}
	fmt.Fprintf(&b, " %s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return b.String()
}

// answerOneShot carries out --help, --version or --healthcheck, which
// loadConfig reports as a *helpRequest, errVersion or a
// *healthcheckRequest; handled is false for any other error.
func answerOneShot(err error, out io.Writer) (code int, handled bool) {
	var hc *healthcheckRequest
	var help *helpRequest
	switch {
	case errors.As(err, &help):
		help.print(out)
		return 0, true
	case errors.Is(err, errVersion):
		fmt.Fprintln(out, buildVersion())
		return 0, true
	case errors.As(err, &hc):
		if err := hc.probe(); err != nil {
			fmt.Fprintln(out, "pushd: not ready:", err)
			return 1, true
		}
		return 0, true
	}
	return 0, false
}
