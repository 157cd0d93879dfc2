package appstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/pushd/pushd/internal/every"
)

// Run watches the bucket until ctx ends and calls apply with the whole set
// of apps: once with the bucket's content (then Ready is closed), and again
// after every change, changes that arrive together applied at once. apply
// runs on the watcher's goroutine, one call at a time. A value that does
// not read (not JSON, a newer schema, invalid settings) is logged and
// skipped: the app keeps the settings it had, the other apps are not
// touched. A watcher that stops is started again, and the view is rebuilt.
func (s *Store) Run(ctx context.Context, apply func(Change)) error {
	every.Restart(ctx, s.log, "app store", &s.health,
		func(bool) error { return s.watch(ctx, apply) }, s.declare)
	return nil
}

// watch runs one watcher until it stops.
func (s *Store) watch(ctx context.Context, apply func(Change)) error {
	// Every key, the id claims too, so that the revision applied follows
	// the bucket's last one (sync).
	w, err := s.kv().WatchAll(ctx)
	if err != nil {
		return err
	}
	defer w.Stop()
	// The initial values build a fresh view, which replaces the old one
	// whole once they are all in (a restarted watcher forgets nothing it
	// should and keeps nothing it should not).
	fresh, freshDeleted := map[string]Entry{}, map[string]bool{}
	var last uint64
	initial := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("watcher closed")
			}
			if e == nil {
				if initial {
					initial = false
					s.mu.Lock()
					s.view, s.deleted = fresh, freshDeleted
					s.mu.Unlock()
					s.publish(apply, last)
					s.health.Store(nil)
				}
				continue
			}
			last = e.Revision()
			if initial {
				s.read(fresh, freshDeleted, e)
				continue
			}
			s.mu.Lock()
			changed := s.read(s.view, s.deleted, e)
			s.mu.Unlock()
			// Whatever else is waiting goes in the same apply.
			for more := true; more; {
				select {
				case e, ok := <-w.Updates():
					if !ok || e == nil {
						more = false
						break
					}
					last = e.Revision()
					s.mu.Lock()
					changed = s.read(s.view, s.deleted, e) || changed
					s.mu.Unlock()
				default:
					more = false
				}
			}
			if changed {
				s.publish(apply, last)
			} else {
				s.advance(last)
			}
		}
	}
}

// read applies one bucket entry to a view and reports whether it changed
// it; a value that does not decode is logged and leaves the view as it was.
func (s *Store) read(view map[string]Entry, deleted map[string]bool, e jetstream.KeyValueEntry) bool {
	if strings.HasPrefix(e.Key(), "id.") {
		return false
	}
	key, err := keyOf(e.Key())
	if err != nil {
		s.log.Warn("app store: skipping a key that is not an app's", slog.String("key", e.Key()), slog.Any("err", err))
		return false
	}
	if e.Operation() != jetstream.KeyValuePut {
		delete(view, key)
		deleted[key] = true
		return true
	}
	entry, err := decode(e.Key(), e.Value(), e.Revision())
	if err != nil {
		s.log.Error("app store: skipping a value that does not read; the app keeps its settings",
			slog.String("app", key), slog.Uint64("revision", e.Revision()), slog.Any("err", err))
		return false
	}
	view[key] = entry
	delete(deleted, key)
	return true
}

// publish hands the view to apply, then tells waiters that rev is applied.
func (s *Store) publish(apply func(Change), rev uint64) {
	s.mu.Lock()
	c := Change{Apps: s.listLocked()}
	for k := range s.deleted {
		c.Deleted = append(c.Deleted, k)
	}
	s.mu.Unlock()
	sort.Strings(c.Deleted)
	apply(c)
	s.advance(rev)
	select {
	case <-s.ready:
	default:
		close(s.ready)
	}
}

// advance records that the view includes revision rev and wakes waiters.
func (s *Store) advance(rev uint64) {
	s.mu.Lock()
	s.applied = max(s.applied, rev)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// sync waits until the view includes every write the bucket held when it
// was called.
func (s *Store) sync(ctx context.Context) error {
	st, err := s.kv().Status(ctx)
	if err != nil {
		return fmt.Errorf("app store status: %w", err)
	}
	bs, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return nil
	}
	return s.Wait(ctx, bs.StreamInfo().State.LastSeq)
}
