// Package appstore keeps a cluster's apps in one JetStream KV bucket, one
// key per app, and tells every gateway the whole set each time it changes:
// an app created, changed or deleted on one gateway takes effect on all of
// them within a moment. The configuration file seeds it (Seed) at start and
// on reload; the admin API creates, changes, rotates and deletes apps in it.
// Writes check the revision they read, so a write that races another
// gateway's is retried or refused, never lost.
package appstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/config"
)

// Sources of an app: where it was last written from.
const (
	// SourceFile is an app a configuration file names: the file wins, so
	// a start or reload writes it again as the file has it, and deletes it
	// once the file no longer names it.
	SourceFile = "file"
	// SourceAPI is an app made through the admin API: a file leaves it
	// alone unless it names it.
	SourceAPI = "api"
)

// Errors callers branch on; validation problems are *config.FieldError.
var (
	ErrNotFound = errors.New("appstore: no such app")
	ErrConflict = errors.New("appstore: the app changed meanwhile")
)

// Options configure a Store.
type Options struct {
	// Bucket is the KV bucket (default PUSHD_APPS).
	Bucket string
	// Replicas of the bucket (default 1).
	Replicas int
	Logger   *slog.Logger
}

// Entry is one app as the store holds it.
type Entry struct {
	App      config.App
	Source   string // SourceFile or SourceAPI
	Created  time.Time
	Updated  time.Time
	Revision uint64 // the bucket revision of this version
}

// Change is the store's content after a change: every app that reads (by
// key), and the keys of the apps deleted (by key).
type Change struct {
	Apps    []Entry
	Deleted []string
}

// Store is one gateway's handle on the app bucket and its view of it.
type Store struct {
	js   jetstream.JetStream
	kvp  atomic.Pointer[jetstream.KeyValue]
	opts Options
	log  *slog.Logger

	ready  chan struct{}
	health atomic.Pointer[error] // non-nil while the watcher is down

	mu      sync.Mutex
	view    map[string]Entry // by app key
	deleted map[string]bool  // keys whose last entry is a delete marker
	applied uint64           // the last revision handed to apply
	changed chan struct{}    // closed (and replaced) after each apply
}

// Open creates or opens the bucket. Call Run to watch it.
func Open(ctx context.Context, js jetstream.JetStream, opts Options) (*Store, error) {
	if opts.Bucket == "" {
		opts.Bucket = "PUSHD_APPS"
	}
	if opts.Replicas == 0 {
		opts.Replicas = 1
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Store{js: js, opts: opts, log: opts.Logger, ready: make(chan struct{}), view: map[string]Entry{},
		deleted: map[string]bool{}, changed: make(chan struct{})}
	if err := s.declare(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// declare creates the bucket, or opens it as it is.
func (s *Store) declare(ctx context.Context) error {
	kv, err := s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      s.opts.Bucket,
		Description: "Pushd apps: one key per app (app.{key}), and the app ids taken (id.{id})",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    s.opts.Replicas,
	})
	if err != nil {
		return fmt.Errorf("app store bucket %s: %w", s.opts.Bucket, err)
	}
	s.kvp.Store(&kv)
	return nil
}

func (s *Store) kv() jetstream.KeyValue { return *s.kvp.Load() }

// appKey and idKey are the bucket keys of an app and of a taken app id.
func appKey(key string) string { return "app." + bus.EncodeToken(key) }
func idKey(id string) string   { return "id." + bus.EncodeToken(id) }

// Ready is closed once the view holds the bucket's apps (the first apply).
func (s *Store) Ready() <-chan struct{} { return s.ready }

// Healthy reports whether the watcher is running.
func (s *Store) Healthy() error {
	if e := s.health.Load(); e != nil {
		return fmt.Errorf("app store watcher: %w", *e)
	}
	return nil
}

// List returns the apps of the view, by key.
func (s *Store) List() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listLocked()
}

func (s *Store) listLocked() []Entry {
	out := make([]Entry, 0, len(s.view))
	for _, e := range s.view {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].App.Key < out[j].App.Key })
	return out
}

// Get returns the app with a key as the view has it.
func (s *Store) Get(key string) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.view[key]
	return e, ok
}

// Wait returns once the view (and what apply made of it) includes bucket
// revision rev, so the gateway that wrote an app serves it when the write
// answers.
func (s *Store) Wait(ctx context.Context, rev uint64) error {
	return s.waitFor(ctx, func() bool { return s.applied >= rev })
}

// WaitGone returns once the view no longer holds the app with a key.
func (s *Store) WaitGone(ctx context.Context, key string) error {
	return s.waitFor(ctx, func() bool { _, ok := s.view[key]; return !ok })
}

// waitFor waits until cond (called with s.mu held) holds after an apply.
func (s *Store) waitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ok, ch := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("app store: this gateway has not seen the change yet: %w", ctx.Err())
		case <-ch:
		}
	}
}
