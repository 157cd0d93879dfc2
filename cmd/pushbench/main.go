// Command pushbench is a load generator for Pusher Channels (protocol 7)
// servers on this machine: it opens many WebSocket clients, publishes
// through the signed HTTP API and reports one JSON summary line on stdout.
//
// Modes:
//
//	connect       ramp --conns sockets (subscribed to --channels public channels, 0: none);
//	              connections/s, and the server's RSS per connection with --pid
//	fanout        --conns subscribers over --channels channels; --events events at --rate
//	              per second through POST /apps/{id}/events (or batch_events with --batch);
//	              end-to-end latency, deliveries/s, lost / duplicated / out-of-order
//	clientevents  --pairs pairs on private channels (auth signed with --secret); one
//	              socket of each pair sends client-ping, the other answers client-pong;
//	              round-trip latency at --rate pings per second in total
//	presence      --conns sockets over --channels presence channels: one observer per
//	              channel, the others join and leave at --rate joins per second
//
// Every run is bounded: --duration caps the load phase, --setup-timeout the
// connecting, --drain the wait for late deliveries. Targets must be
// loopback addresses. Above --per-proc sockets it runs several worker
// processes of itself, each from its own source address 127.0.0.2, 127.0.0.3…
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"time"
)

// config is the command line.
type config struct {
	Mode         string
	WS, API      string
	AppID        string
	Key, Secret  string
	Conns        int
	Channels     int
	Pairs        int
	Events       int64
	Rate         float64
	Batch        int
	Size         int
	Stay         time.Duration
	Duration     time.Duration
	SetupTimeout time.Duration
	Drain        time.Duration
	Settle       time.Duration
	Concurrency  int
	ReadBuffer   int
	Publishers   int
	PID          int
	PerProc      int
	Procs        int
	Worker       int // ≥ 0 in a worker process
	Workers      int
	CPUProfile   string
	Sources      int
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("pushbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pushbench connect|fanout|clientevents|presence [flags]")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.WS, "ws", "ws://127.0.0.1:3131", "WebSocket base URL of the server (loopback only); several, comma-separated, take the sockets in turn (the gateways of a cluster)")
	fs.StringVar(&c.API, "api", "http://127.0.0.1:3232", "HTTP API base URL of the server (loopback only)")
	fs.StringVar(&c.AppID, "app-id", "1", "app id in API paths")
	fs.StringVar(&c.Key, "key", "k", "app key")
	fs.StringVar(&c.Secret, "secret", "s", "app secret (signs API requests and private/presence auth)")
	fs.IntVar(&c.Conns, "conns", 1000, "sockets (connect, fanout, presence)")
	fs.IntVar(&c.Channels, "channels", 10, "channels (connect: 0 connects without subscribing)")
	fs.IntVar(&c.Pairs, "pairs", 100, "clientevents: socket pairs, one private channel each")
	fs.Int64Var(&c.Events, "events", 0, "events, pings or joins to send in total (0: rate × duration)")
	fs.Float64Var(&c.Rate, "rate", 100, "events, pings or joins per second in total")
	fs.IntVar(&c.Batch, "batch", 0, "fanout: events per batch_events request (0: one POST /events per event)")
	fs.IntVar(&c.Size, "size", 0, "fanout: bytes of padding in each event's data")
	fs.DurationVar(&c.Stay, "stay", 0, "presence: how long a member stays before leaving")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "cap on the load phase (max 60s)")
	fs.DurationVar(&c.SetupTimeout, "setup-timeout", 30*time.Second, "cap on connecting and subscribing")
	fs.DurationVar(&c.Drain, "drain", 5*time.Second, "cap on waiting for deliveries after the last send")
	fs.DurationVar(&c.Settle, "settle", time.Second, "connect: wait before the second RSS reading")
	fs.IntVar(&c.Concurrency, "concurrency", 64, "dials in flight per process")
	fs.IntVar(&c.ReadBuffer, "read-buffer", 1024, "client read buffer per socket, bytes")
	fs.IntVar(&c.Publishers, "publishers", 4, "fanout: concurrent API publishers (each owns a share of the channels)")
	fs.IntVar(&c.PID, "pid", 0, "server pid: report its CPU and RSS from /proc")
	fs.IntVar(&c.PerProc, "per-proc", 18000, "sockets per process; more start worker processes")
	fs.IntVar(&c.Procs, "procs", 0, "worker processes (0: as --per-proc needs)")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write pushbench's own CPU profile to this file")
	fs.IntVar(&c.Sources, "sources", 0, "source addresses per process from 127.0.0.2 on (0: kernel's choice in a single process, 1 per worker)")
	fs.IntVar(&c.Worker, "worker", -1, "internal: index of this worker process")
	fs.IntVar(&c.Workers, "workers", 0, "internal: number of worker processes")
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fs.Usage()
		return nil, flag.ErrHelp
	}
	c.Mode = args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return c, c.validate()
}

func (c *config) validate() error {
	switch c.Mode {
	case "connect", "fanout", "clientevents", "presence":
	default:
		return fmt.Errorf("unknown mode %q (connect, fanout, clientevents, presence)", c.Mode)
	}
	errs := []error{checkLoopback(c.API)}
	for _, ws := range strings.Split(c.WS, ",") {
		errs = append(errs, checkLoopback(ws))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if c.Duration <= 0 || c.Duration > 60*time.Second {
		return errors.New("--duration must be in (0, 60s]")
	}
	if c.SetupTimeout <= 0 || c.SetupTimeout > 120*time.Second || c.Drain < 0 || c.Drain > 30*time.Second {
		return errors.New("--setup-timeout must be in (0, 120s] and --drain in [0, 30s]")
	}
	if c.Mode == "clientevents" {
		c.Conns, c.Channels = 2*c.Pairs, 0
		if c.Pairs < 1 {
			return errors.New("--pairs must be at least 1")
		}
		if c.Rate/float64(c.Pairs) > 10 {
			return fmt.Errorf("--rate %.0f over %d pairs is over 10 client events per second per socket, Pusher's limit", c.Rate, c.Pairs)
		}
	}
	if c.Conns < 1 || c.Conns > 200000 {
		return errors.New("--conns must be in [1, 200000]")
	}
	if c.Channels < 0 || (c.Mode != "connect" && c.Mode != "clientevents" && c.Channels < 1) {
		return errors.New("--channels must be at least 1")
	}
	if c.Mode == "presence" && c.Conns <= c.Channels {
		return errors.New("presence: --conns must exceed --channels (one observer per channel, the rest churn)")
	}
	if c.Mode != "connect" && c.Rate <= 0 {
		return errors.New("--rate must be positive")
	}
	if c.Batch < 0 || c.Batch > 10 {
		return errors.New("--batch must be in [0, 10]")
	}
	if c.Events < 0 || c.Concurrency < 1 || c.Publishers < 1 || c.PerProc < 1 || c.ReadBuffer < 64 {
		return errors.New("--events ≥ 0, --concurrency, --publishers, --per-proc ≥ 1 and --read-buffer ≥ 64")
	}
	if c.Procs == 0 {
		c.Procs = (c.Conns + c.PerProc - 1) / c.PerProc
	}
	if c.Sources < 0 || c.Sources > 1000 {
		return errors.New("--sources must be in [0, 1000]")
	}
	if c.Procs > 250 {
		return errors.New("too many worker processes")
	}
	return nil
}

// expectedEvents is how many events (pings, joins) the load phase sends.
func (c *config) expectedEvents() int64 {
	if c.Events > 0 {
		return c.Events
	}
	return int64(c.Rate*c.Duration.Seconds() + 0.5)
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pushbench:", err)
		os.Exit(2)
	}
	if cfg.Worker >= 0 {
		if err := workerMain(cfg, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "pushbench worker:", err)
			os.Exit(1)
		}
		return
	}
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "pushbench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	sum, err := runBench(context.Background(), cfg, os.Args[1:])
	if sum != nil {
		out, _ := json.Marshal(sum)
		fmt.Println(string(out))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pushbench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}
