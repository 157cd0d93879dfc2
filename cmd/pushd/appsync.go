package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/pushd/pushd/appstore"
	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/webhook"
)

// appSync makes this gateway serve what the app store holds: each change
// the store's watcher reports declares the event streams and NATS sinks of
// the apps that are new or whose retention or sinks changed, then installs
// the whole set in the app table (gateway.Reload closes the sockets of apps
// deleted, with 4001, or disabled, with 4003).
type appSync struct {
	ctx   context.Context
	bus   *bus.Bus
	hooks *webhook.Dispatcher
	gw    *gateway.Gateway
	table *apps.Table
	log   *slog.Logger

	// declared is what this process declared per app: a stream is
	// declared again only when its retention changes, sinks when the
	// app's sink endpoints do.
	mu       sync.Mutex
	declared map[string]declared
}

type declared struct {
	stream bus.AppStream
	sinks  []config.WebhookEndpoint
}

func newAppSync(ctx context.Context, b *bus.Bus, hooks *webhook.Dispatcher, gw *gateway.Gateway, table *apps.Table, log *slog.Logger) *appSync {
	return &appSync{ctx: ctx, bus: b, hooks: hooks, gw: gw, table: table, log: log, declared: map[string]declared{}}
}

// declareParallel bounds the stream declarations in flight (a start with
// thousands of apps declares each one).
const declareParallel = 16

// apply installs a change of the app store (appstore.Store.Run's apply).
func (s *appSync) apply(c appstore.Change) {
	list := make([]config.App, len(c.Apps))
	for i, e := range c.Apps {
		list[i] = e.App
	}
	s.mu.Lock()
	todo, next := s.undeclared(list)
	s.mu.Unlock()
	done := s.declare(todo)
	s.mu.Lock()
	for _, d := range done {
		next[d.stream.Key] = d
	}
	s.declared = next // apps gone are forgotten: one created again is declared again
	s.mu.Unlock()
	s.gw.Reload(list)
	s.table.MarkDeleted(c.Deleted)
}

// declareFile declares the streams and sinks of the configuration file's
// apps before they are seeded, so that a stream whose settings NATS refuses
// stops a start (or a reload) as it did before the app store.
func (s *appSync) declareFile(list []config.App) error {
	s.mu.Lock()
	todo, _ := s.undeclared(list)
	s.mu.Unlock()
	for _, a := range todo {
		ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
		err := declareApp(ctx, s.bus, s.hooks, a)
		cancel()
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.declared[a.Key] = declared{stream: streamOf(a), sinks: sinksOf(a)}
		s.mu.Unlock()
	}
	return nil
}

// undeclared splits list (defaults filled on a copy) into the apps to
// declare and what is declared already of the others. The caller holds
// s.mu.
func (s *appSync) undeclared(list []config.App) (todo []config.App, have map[string]declared) {
	have = make(map[string]declared, len(list))
	for _, a := range list {
		a.Defaults()
		d, ok := s.declared[a.Key]
		if ok && d.stream == streamOf(a) && slices.EqualFunc(d.sinks, sinksOf(a), sameSink) {
			have[a.Key] = d
			continue
		}
		todo = append(todo, a)
	}
	return todo, have
}

// declare creates or updates the streams and NATS sinks of apps and
// returns what was declared; an app that fails is logged and served anyway
// (its events fail to store until a later change declares it again).
func (s *appSync) declare(list []config.App) []declared {
	var (
		mu   sync.Mutex
		done []declared
		wg   sync.WaitGroup
		sem  = make(chan struct{}, declareParallel)
	)
	for _, a := range list {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
			defer cancel()
			if err := declareApp(ctx, s.bus, s.hooks, a); err != nil {
				s.log.Error("app store: the app's stream or sinks could not be declared; its events will fail to store",
					slog.String("app", a.Key), slog.Any("err", err))
				return
			}
			mu.Lock()
			done = append(done, declared{stream: streamOf(a), sinks: sinksOf(a)})
			mu.Unlock()
		})
	}
	wg.Wait()
	return done
}

// declareApp creates or updates the event stream and the NATS sink
// streams of one app (with its defaults filled).
func declareApp(ctx context.Context, b *bus.Bus, hooks *webhook.Dispatcher, a config.App) error {
	if err := b.EnsureApp(ctx, streamOf(a)); err != nil {
		return err
	}
	if err := hooks.EnsureSinks(ctx, []config.App{a}); err != nil {
		return fmt.Errorf("webhook sinks: %w", err)
	}
	return nil
}

// streamOf is the event stream an app (defaults filled) needs.
func streamOf(a config.App) bus.AppStream {
	return bus.AppStream{Key: a.Key, MaxAge: a.HistoryMaxAge, MaxBytes: a.HistoryMaxBytes}
}

// sinksOf are the app's endpoints whose NATS stream pushd declares.
func sinksOf(a config.App) []config.WebhookEndpoint {
	var out []config.WebhookEndpoint
	for _, w := range a.Webhooks {
		if w.NATSSubject != "" && w.NATSStream != "" {
			out = append(out, w)
		}
	}
	return out
}

func sameSink(a, b config.WebhookEndpoint) bool {
	return a.NATSSubject == b.NATSSubject && a.NATSStream == b.NATSStream
}
