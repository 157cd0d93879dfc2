// Command pushd is the Pushd server: a Pusher Channels (protocol 7) and
// webman/push compatible push server on NATS JetStream.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pushd/pushd/appstore"
	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway"
	"github.com/pushd/pushd/gateway/admin"
	"github.com/pushd/pushd/gateway/api"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/gateway/console"
	"github.com/pushd/pushd/metrics"
	"github.com/pushd/pushd/presence"
	"github.com/pushd/pushd/stats"
	"github.com/pushd/pushd/webhook"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if code, ok := answerOneShot(err, os.Stdout); ok {
			os.Exit(code)
		}
		if !errors.Is(err, errLogged) {
			fmt.Fprintln(os.Stderr, "pushd:", err)
		}
		os.Exit(1)
	}
}

func run(args []string) (err error) {
	if len(args) > 0 && args[0] == "webhooks" {
		return webhooksCommand(context.Background(), args[1:], os.Getenv, os.Stdout)
	}
	if len(args) > 0 && args[0] == "apps" {
		return appsCommand(context.Background(), args[1:], os.Getenv, os.Stdout)
	}
	if len(args) > 0 && args[0] == "check-config" {
		return checkConfigCommand(args[1:], os.Stdout)
	}
	cfg, generated, err := loadConfig(args, os.Getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg)
	defer func() { err = logFatal(cfg, log, err) }()
	creds, err := listenCredentials(&cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The listeners first: a port in use stops the start before anything
	// else runs (it used to show first as the errors of background work
	// cut short).
	var tlsCerts *certs
	if cfg.TLSCert != "" {
		if tlsCerts, err = newCerts(cfg.TLSCert, cfg.TLSKey, log); err != nil {
			return err
		}
	}
	wsLn, err := listen(cfg.WSAddr, tlsCerts)
	if err != nil {
		return fmt.Errorf("websocket listener: %w", err)
	}
	defer wsLn.Close()
	apiLn, err := listen(cfg.APIAddr, tlsCerts)
	if err != nil {
		return fmt.Errorf("api listener: %w", err)
	}
	defer apiLn.Close()

	var gw *gateway.Gateway
	b, err := bus.Open(ctx, bus.Options{URL: cfg.NATSURL, DataDir: cfg.DataDir, Listen: cfg.NATSListen, Name: "pushd", Logger: log,
		Auth: cfg.NATS, ListenAuth: cfg.NATSListenAuth, Replicas: cfg.Replicas, WindowBytes: cfg.WindowBytes()},
		func(d bus.Delivery) { gw.Deliver(d) })
	if err != nil {
		return err
	}
	defer b.Close()
	store, err := appstore.Open(ctx, b.JetStream(), appstore.Options{Replicas: b.Replicas(), Logger: log})
	if err != nil {
		return err
	}
	node := gateway.NewNodeID()
	tracker, err := presence.New(ctx, b.JetStream(), presence.Options{Node: node, Replicas: b.Replicas(), Logger: log})
	if err != nil {
		return err
	}
	m := metrics.New()
	table := apps.NewTable(nil, m) // filled from the app store below
	hooks, err := webhook.New(ctx, b.Jobs(), webhook.Options{Apps: table.Config, State: tracker, Logger: log, Replicas: b.Replicas(),
		DeadMaxAge: cfg.WebhookDeadLetterMaxAge, Attempted: console.WebhookFeed(table, b.Notify, cfg.NodeName)})
	if err != nil {
		return err
	}
	observe(m, b, tracker, hooks)
	// runCtx outlives the signal: the shutdown below still needs NATS, and
	// cancels it last.
	runCtx, cancelRun := context.WithCancel(context.Background())
	defer cancelRun()
	gw, err = gateway.New(runCtx, cfg, gateway.Deps{Node: node, Apps: table, Broker: b, Presence: tracker, Webhooks: hooks,
		Static: staticFiles(), Metrics: m, Logger: log})
	if err != nil {
		return err
	}
	apiSrv, err := api.New(api.Deps{Node: node, Apps: table, Broker: b, Presence: tracker, DeadLetters: hooks.Dead(), WebhookState: hooks, Draining: gw.Draining,
		AuthFailuresPerSec: cfg.APIAuthFailuresPerSec, Metrics: m, Logger: log})
	if err != nil {
		return err
	}
	// The apps: the store's watcher fills the table, then the file (and
	// the flags) seed the store; the gateway serves once it has both.
	live := newAppSync(runCtx, b, hooks, gw, table, log)
	if err := live.declareFile(cfg.Apps); err != nil {
		return err
	}
	go func() {
		if err := store.Run(runCtx, live.apply); err != nil {
			log.Error("app store watcher stopped", slog.Any("err", err))
		}
	}()
	select {
	case <-store.Ready():
	case <-ctx.Done():
		return nil
	}
	if err := seed(ctx, store, cfg.Apps, generated, log); err != nil {
		return err
	}
	// The console's graphs: this node's figures each second, every node's
	// summed (package stats).
	figures := stats.New(stats.Options{Node: node, Name: cfg.NodeName, Apps: table, Metrics: m, Webhooks: hooks, Bus: b, Logger: log})
	go func() {
		if err := figures.Run(runCtx); err != nil && runCtx.Err() == nil {
			log.Error("console figures stopped", slog.Any("err", err))
		}
	}()
	hooksDone := make(chan struct{})
	go func() {
		defer close(hooksDone)
		if err := hooks.Run(runCtx); err != nil && runCtx.Err() == nil {
			log.Error("webhook dispatcher stopped", slog.Any("err", err))
		}
	}()
	cons, err := console.New(console.Deps{Node: node, NodeName: cfg.NodeName, Apps: table, Local: gw, Presence: tracker, Broker: b,
		Stats: figures, Trigger: apiSrv.Trigger, Password: cfg.ConsolePassword, WithSecret: cfg.ConsoleWithSecret})
	if err != nil {
		return err
	}
	go func() {
		if err := tracker.Run(runCtx, presence.Listeners{gw.Listener(), cons.Listener()}); err != nil && runCtx.Err() == nil {
			log.Error("presence watcher stopped", slog.Any("err", err))
		}
	}()
	select {
	case <-tracker.Ready():
	case <-ctx.Done():
		return nil
	}
	go func() {
		// What went offline while no node was watching (webhook.Reconcile).
		rctx, cancel := context.WithTimeout(runCtx, time.Minute)
		defer cancel()
		n, err := hooks.Reconcile(rctx)
		switch {
		case err != nil && runCtx.Err() != nil: // cut short by the shutdown
		case err != nil:
			log.Warn("webhook reconcile", slog.Any("err", err))
		case n > 0:
			log.Info("webhook reconcile: reporting what went offline while no node ran", slog.Int("events", n))
		}
	}()

	if tlsCerts != nil {
		go tlsCerts.watch(runCtx, 5*time.Second)
	}
	mux := http.NewServeMux()
	apiSrv.Register(mux)
	admin.New(admin.Deps{Store: store, Token: cfg.AdminToken, Prepare: func(ctx context.Context, a config.App) error { return declareApp(ctx, b, hooks, a) },
		Retire: b.DeleteApp, RefuseAuth: apiSrv.RefuseAuth, Logger: log}).Register(mux)
	cons.Register(mux)
	api := &http.Server{Handler: apiSrv.Handler(mux, staticFiles()), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, ErrorLog: httpErrorLog(ctx, log, "api")} // no WriteTimeout: the console streams events
	errc := make(chan error, 2)
	go func() { errc <- gw.ServeWebSocket(wsLn) }()
	go func() {
		if err := api.Serve(apiLn); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("api: %w", err)
		}
	}()
	go gw.Run(runCtx)
	go apiSrv.Run(runCtx)
	if cfg.PprofAddr != "" {
		go servePprof(ctx, cfg.PprofAddr, log)
	}
	bn := newBanner(cfg, generated, creds, wsLn.Addr().String(), apiLn.Addr().String(), tlsCerts != nil)
	bn.withStore(cfg.AdminToken != "", len(store.List())).announce(os.Stdout, log, cfg.LogFormat)

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			log.Info("shutting down")
			done = true
		case err := <-errc:
			if err != nil {
				log.Error("listener failed", slog.Any("err", err))
			}
			done = true
		case <-hup:
			reload(ctx, args, log, store, live, tlsCerts)
		}
	}
	stop()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	wsLn.Close()
	gw.Shutdown(sctx)   // clients get 4200 and reconnect elsewhere; their keys go
	tracker.Flush(sctx) // their channels' counts are written now, not at the TTL
	_ = api.Shutdown(sctx)
	cancelRun() // the webhook dispatcher hands back the jobs it holds
	// and finishes the batches it was storing and the requests in flight
	// before NATS closes: a batch numbered and then cut off would leave a
	// hole in its endpoint's sequence.
	select {
	case <-hooksDone:
	case <-sctx.Done():
		log.Warn("webhook dispatcher still busy at the end of the shutdown timeout")
	}
	return nil
}

// apiHandler is the gateway's HTTP API plus the webhook dead-letter
// endpoints (GET /apps/{id}/webhooks/failed, POST …/replay) that the
// `pushd webhooks` command calls.
// servePprof serves the runtime profiles for performance work.
func servePprof(ctx context.Context, addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: httpErrorLog(ctx, log, "pprof")}
	if err := srv.ListenAndServe(); err != nil {
		log.Error("pprof listener", slog.Any("err", err))
	}
}

// seed writes the configuration's apps into the app store (the file wins
// for the apps it names) and waits until this gateway serves them. A
// gateway that runs on its generated app (no file, no --app-key) deletes
// no other app.
func seed(ctx context.Context, store *appstore.Store, list []config.App, generated generatedKey, log *slog.Logger) error {
	res, err := store.Seed(ctx, list, generated.key == "")
	if err != nil {
		return fmt.Errorf("seed the app store from the configuration: %w", err)
	}
	if res.Revision > 0 {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := store.Wait(wctx, res.Revision); err != nil {
			return err
		}
	}
	log.Info("app store seeded from the configuration", slog.Int("created", res.Created), slog.Int("updated", res.Updated),
		slog.Int("deleted", res.Deleted), slog.Int("unchanged", res.Same), slog.Int("apps", len(store.List())))
	return nil
}

// reload re-reads the configuration (SIGHUP) and seeds the app store from
// it again: the file's apps are written as it has them, and apps it no
// longer names are deleted; every gateway applies the change without
// dropping connections. The TLS certificate is re-read. Listener addresses
// and NATS settings need a restart.
func reload(ctx context.Context, args []string, log *slog.Logger, store *appstore.Store, live *appSync, tlsCerts *certs) {
	if tlsCerts != nil {
		tlsCerts.reload("SIGHUP")
	}
	cfg, generated, err := loadConfig(args, os.Getenv)
	if err == nil {
		err = live.declareFile(cfg.Apps)
	}
	if err == nil {
		err = seed(ctx, store, cfg.Apps, generated, log)
	}
	if err != nil {
		log.Error("config reload failed, keeping the running configuration", slog.Any("err", err))
		return
	}
	log.Info("configuration reloaded", slog.Int("apps", len(cfg.Apps)))
}

func listen(addr string, c *certs) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil || c == nil {
		return ln, err
	}
	return tls.NewListener(ln, c.config()), nil
}
