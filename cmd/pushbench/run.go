package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Summary is the JSON line pushbench prints.
type Summary struct {
	Mode     string  `json:"mode"`
	Target   string  `json:"target"`
	Conns    int     `json:"conns"`
	Channels int     `json:"channels,omitempty"`
	Pairs    int     `json:"pairs,omitempty"`
	Procs    int     `json:"procs"`
	Rate     float64 `json:"rate,omitempty"`

	Connect struct {
		BenchCPU float64 `json:"bench_cpu_s"` // this process's CPU while connecting
		Ready    int64   `json:"ready"`
		Failed   int64   `json:"failed"`
		Seconds  float64 `json:"seconds"`
		PerSec   float64 `json:"per_sec"`
	} `json:"connect"`

	// Load phase.
	Seconds    float64 `json:"seconds,omitempty"` // of the load phase (sending)
	Sent       int64   `json:"sent,omitempty"`    // events accepted by the API, pings or joins sent
	SentPerSec float64 `json:"sent_per_sec,omitempty"`
	Requests   int64   `json:"requests,omitempty"`
	APIErrors  int64   `json:"api_errors,omitempty"`
	Expected   int64   `json:"expected,omitempty"`
	Delivered  int64   `json:"delivered,omitempty"`
	PerSec     float64 `json:"delivered_per_sec,omitempty"`
	Lost       int64   `json:"lost"`
	Dup        int64   `json:"dup"`
	OOO        int64   `json:"ooo"`
	Foreign    int64   `json:"foreign,omitempty"` // events without pushbench's payload

	Joins         int64 `json:"joins,omitempty"`
	Leaves        int64 `json:"leaves,omitempty"`
	Skipped       int64 `json:"skipped,omitempty"`
	MemberAdded   int64 `json:"member_added,omitempty"`
	MemberRemoved int64 `json:"member_removed,omitempty"`

	Latency    *Latency `json:"latency_ms,omitempty"`     // fanout: end to end; clientevents: round trip; presence: join
	APILatency *Latency `json:"api_latency_ms,omitempty"` // fanout: request to answer

	Disconnects int64 `json:"disconnects"`
	ErrorFrames int64 `json:"error_frames"`

	Server *serverStats `json:"server,omitempty"`
	// BenchCPU is the load generator's CPU during the load phase, % of one core.
	BenchCPU float64   `json:"bench_cpu_pct"`
	LoadAvg  [2]string `json:"loadavg"` // /proc/loadavg before and after
	Started  string    `json:"started"`
	Errors   []string  `json:"errors,omitempty"`
}

type serverStats struct {
	PID          int     `json:"pid"`
	CPUPct       float64 `json:"cpu_pct,omitempty"` // % of one core during the load phase
	RSSBeforeKB  int64   `json:"rss_before_kb"`
	RSSAfterKB   int64   `json:"rss_after_kb"`
	KBPerConn    float64 `json:"kb_per_conn"`
	RSSSettledKB int64   `json:"rss_settled_kb,omitempty"`
}

// group is one share of the sockets: in this process or in a worker.
type group interface {
	setup(ctx context.Context) (setupResult, error)
	run(ctx context.Context, rate float64, count int64)
	finish(published []int64) (partial, error)
	close()
}

type localGroup struct {
	w *worker
}

func (g localGroup) setup(ctx context.Context) (setupResult, error) { return g.w.setup(ctx), nil }
func (g localGroup) run(ctx context.Context, rate float64, count int64) {
	g.w.run(ctx, rate, count)
}
func (g localGroup) finish(published []int64) (partial, error) {
	return g.w.finish(published, g.w.cfg.Drain), nil
}
func (g localGroup) close() { g.w.close() }

// share returns the socket range of worker i of n.
func share(cfg *config, i, n int) (lo, hi int) {
	unit := 1
	if cfg.Mode == "clientevents" {
		unit = 2 // both sockets of a pair in one process
	}
	units := cfg.Conns / unit
	return i * units / n * unit, (i + 1) * units / n * unit
}

// runBench runs one benchmark and returns its summary.
func runBench(ctx context.Context, cfg *config, args []string) (*Summary, error) {
	s := &Summary{Mode: cfg.Mode, Target: cfg.WS, Conns: cfg.Conns, Channels: cfg.Channels, Procs: cfg.Procs,
		Started: time.Now().UTC().Format(time.RFC3339)}
	if cfg.Mode == "clientevents" {
		s.Pairs, s.Channels = cfg.Pairs, 0
	}
	if cfg.Mode != "connect" {
		s.Rate = cfg.Rate
	}
	s.LoadAvg[0] = loadAvg()
	var srv *serverStats
	if cfg.PID > 0 {
		srv = &serverStats{PID: cfg.PID}
		s.Server = srv
		var err error
		if srv.RSSBeforeKB, err = rssKB(cfg.PID); err != nil {
			return nil, fmt.Errorf("server pid: %w", err)
		}
	}

	var groups []group
	if cfg.Procs == 1 {
		groups = []group{localGroup{newWorker(cfg, 0, cfg.Conns, sources(cfg, 0))}}
	} else {
		for i := range cfg.Procs {
			g, err := startWorker(cfg, args, i)
			if err != nil {
				for _, g := range groups {
					g.close()
				}
				return nil, err
			}
			groups = append(groups, g)
		}
	}
	defer func() {
		for _, g := range groups {
			g.close()
		}
	}()

	// Connect and subscribe.
	setupTicks0, _ := cpuTicks(0)
	setupCtx, cancel := context.WithTimeout(ctx, cfg.SetupTimeout)
	results := make([]setupResult, len(groups))
	errs := make([]error, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Add(1)
		go func() { defer wg.Done(); results[i], errs[i] = g.setup(setupCtx) }()
	}
	wg.Wait()
	cancel()
	if t, err := cpuTicks(0); err == nil {
		s.Connect.BenchCPU = float64(t-setupTicks0) / clockTicks
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, r := range results {
		s.Connect.Ready += r.Ready
		s.Connect.Failed += r.Failed
		s.Connect.Seconds = max(s.Connect.Seconds, r.Seconds)
	}
	if s.Connect.Seconds > 0 {
		s.Connect.PerSec = round(float64(s.Connect.Ready) / s.Connect.Seconds)
	}
	s.Connect.Seconds = round3(s.Connect.Seconds)
	if srv != nil {
		srv.RSSAfterKB, _ = rssKB(cfg.PID)
		if s.Connect.Ready > 0 {
			srv.KBPerConn = round3(float64(srv.RSSAfterKB-srv.RSSBeforeKB) / float64(s.Connect.Ready))
		}
	}
	if s.Connect.Ready < int64(cfg.Conns) {
		// Run anyway: the summary says how many were up.
		s.Errors = append(s.Errors, fmt.Sprintf("%d of %d sockets ready", s.Connect.Ready, cfg.Conns))
	}

	// Load phase.
	loadCtx, cancelLoad := context.WithTimeout(ctx, cfg.Duration)
	defer cancelLoad()
	var pub *publisher
	if cfg.Mode == "fanout" {
		pub = newPublisher(cfg, channelNames(cfg))
	}
	srvTicks0, _ := cpuTicks(cfg.PID)
	selfTicks0, _ := cpuTicks(0)
	start := time.Now()
	count := cfg.expectedEvents()
	total := float64(cfg.Conns)
	if cfg.Mode == "clientevents" {
		total = float64(cfg.Pairs * 2)
	}
	for i, g := range groups {
		lo, hi := share(cfg, i, len(groups))
		if cfg.Procs == 1 {
			lo, hi = 0, cfg.Conns
		}
		frac := float64(hi-lo) / total
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.run(loadCtx, cfg.Rate*frac, int64(float64(count)*frac+0.5))
		}()
	}
	if pub != nil {
		pub.run(loadCtx)
	}
	wg.Wait()
	elapsed := time.Since(start)
	srvTicks1, _ := cpuTicks(cfg.PID)
	selfTicks1, _ := cpuTicks(0)
	if cfg.Mode == "connect" {
		time.Sleep(cfg.Settle)
		if srv != nil {
			srv.RSSSettledKB, _ = rssKB(cfg.PID)
			if s.Connect.Ready > 0 {
				srv.KBPerConn = round3(float64(srv.RSSSettledKB-srv.RSSBeforeKB) / float64(s.Connect.Ready))
			}
		}
	} else {
		s.Seconds = round3(elapsed.Seconds())
		if srv != nil {
			srv.CPUPct = round(float64(srvTicks1-srvTicks0) / clockTicks / elapsed.Seconds() * 100)
		}
	}

	// Drain and collect.
	var published []int64
	if pub != nil {
		published = pub.counts()
		for _, n := range published {
			s.Sent += n
		}
		s.Requests, s.APIErrors = pub.requests.Load(), pub.apiErrors.Load()
		s.APILatency = pub.apiLat.summary()
		s.Errors = append(s.Errors, pub.errs...)
	}
	parts := make([]partial, len(groups))
	for i, g := range groups {
		wg.Add(1)
		go func() { defer wg.Done(); parts[i], errs[i] = g.finish(published) }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var lat hist
	benchTicks := selfTicks1 - selfTicks0
	for _, p := range parts {
		s.Expected += p.Expected
		s.Delivered += p.Unique
		s.Dup += p.Dup
		s.OOO += p.OOO
		s.Foreign += p.Foreign
		s.Joins += p.Joins
		s.Leaves += p.Leaves
		s.Skipped += p.Skipped
		s.MemberAdded += p.MemberAdded
		s.MemberRemoved += p.MemberRemoved
		s.Disconnects += p.Disconnects
		s.ErrorFrames += p.ErrorFrames
		if cfg.Mode != "fanout" {
			s.Sent += p.Sent
		}
		if cfg.Procs > 1 {
			benchTicks += p.CPUTicks
		}
		if cfg.Mode == "presence" {
			lat.merge(p.JoinLat)
		} else {
			lat.merge(p.Lat)
		}
		for _, e := range p.Errors {
			if len(s.Errors) < 10 {
				s.Errors = append(s.Errors, e)
			}
		}
	}
	s.Latency = lat.summary()
	if s.Expected > s.Delivered {
		s.Lost = s.Expected - s.Delivered
	}
	if cfg.Mode != "connect" && elapsed > 0 {
		s.SentPerSec = round(float64(s.Sent) / elapsed.Seconds())
		s.PerSec = round(float64(s.Delivered) / elapsed.Seconds())
		if cfg.Mode == "presence" {
			s.PerSec = round(float64(s.Joins) / elapsed.Seconds())
		}
		s.BenchCPU = round(float64(benchTicks) / clockTicks / elapsed.Seconds() * 100)
	}
	s.LoadAvg[1] = loadAvg()
	return s, nil
}

func round(v float64) float64  { return float64(int64(v*10+0.5)) / 10 }
func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

// procGroup is a worker process driven over its stdin and stdout.
type procGroup struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
	mu  sync.Mutex
}

func startWorker(cfg *config, args []string, i int) (*procGroup, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	a := append(append([]string(nil), args...), "--worker", strconv.Itoa(i), "--workers", strconv.Itoa(cfg.Procs))
	cmd := exec.Command(exe, a...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker %d: %w", i, err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	return &procGroup{cmd: cmd, in: in, out: sc}, nil
}

func (g *procGroup) read(verb string, v any) error {
	if !g.out.Scan() {
		return fmt.Errorf("worker %d ended before %q: %v", g.cmd.Process.Pid, verb, g.out.Err())
	}
	line := g.out.Text()
	rest, ok := strings.CutPrefix(line, verb+" ")
	if !ok {
		return fmt.Errorf("worker said %q, want %q", line, verb)
	}
	return json.Unmarshal([]byte(rest), v)
}

func (g *procGroup) setup(ctx context.Context) (setupResult, error) {
	var r setupResult
	return r, g.read("ready", &r)
}

func (g *procGroup) run(_ context.Context, rate float64, count int64) {
	fmt.Fprintf(g.in, "run %g %d\n", rate, count)
}

func (g *procGroup) finish(published []int64) (partial, error) {
	b, _ := json.Marshal(published)
	fmt.Fprintf(g.in, "finish %s\n", b)
	var p partial
	return p, g.read("result", &p)
}

func (g *procGroup) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.in != nil {
		g.in.Close()
		g.in = nil
		done := make(chan struct{})
		go func() { g.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			g.cmd.Process.Kill()
			<-done
		}
	}
}

// sources returns the source addresses of worker i: --sources addresses
// from 127.0.0.2 on, a separate set for each worker. A single process with
// --sources 0 leaves the choice to the kernel.
func sources(cfg *config, i int) []net.IP {
	n := cfg.Sources
	if n == 0 {
		if cfg.Procs == 1 {
			return nil
		}
		n = 1
	}
	ips := make([]net.IP, n)
	for j := range ips {
		k := 2 + i*n + j
		ips[j] = net.IPv4(127, byte(k>>16), byte(k>>8), byte(k))
	}
	return ips
}

// workerMain is a worker process: it sets up its share of the sockets from
// its own source addresses, then follows the parent's commands.
func workerMain(cfg *config, in io.Reader, out io.Writer) error {
	lo, hi := share(cfg, cfg.Worker, cfg.Workers)
	w := newWorker(cfg, lo, hi, sources(cfg, cfg.Worker))
	defer w.close()
	// Exit if the parent goes away without saying so.
	setupCtx, cancel := context.WithTimeout(context.Background(), cfg.SetupTimeout)
	r := w.setup(setupCtx)
	cancel()
	b, _ := json.Marshal(r)
	fmt.Fprintf(out, "ready %s\n", b)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		verb, rest, _ := strings.Cut(sc.Text(), " ")
		switch verb {
		case "run":
			var rate float64
			var count int64
			if _, err := fmt.Sscan(rest, &rate, &count); err != nil {
				return fmt.Errorf("run: %w", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), cfg.Duration)
			w.run(ctx, rate, count)
			cancel()
		case "finish":
			var published []int64
			if err := json.Unmarshal([]byte(rest), &published); err != nil {
				return fmt.Errorf("finish: %w", err)
			}
			b, _ := json.Marshal(w.finish(published, cfg.Drain))
			fmt.Fprintf(out, "result %s\n", b)
			return nil
		}
	}
	return sc.Err()
}
