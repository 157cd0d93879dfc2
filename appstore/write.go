package appstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/config"
)

// writeTries bounds how often a write that lost a race with another
// gateway's is tried again on the new revision.
const writeTries = 5

// Create stores a new app. It is refused with a *config.FieldError when
// its settings are invalid, its key is taken ("key"), its id is another
// app's ("id") or a NATS sink subject is another app's.
func (s *Store) Create(ctx context.Context, a config.App, source string) (Entry, error) {
	if err := s.check(a); err != nil {
		return Entry{}, err
	}
	if a.ID != "" {
		if err := s.claimID(ctx, a.ID, a.Key); err != nil {
			return Entry{}, err
		}
	}
	now := time.Now().UTC()
	e := Entry{App: a, Source: source, Created: now, Updated: now}
	val, err := encode(e)
	if err != nil {
		return Entry{}, err
	}
	e.Revision, err = s.kv().Create(ctx, appKey(a.Key), val)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return Entry{}, fieldErr("key", "an app with key %q exists", a.Key)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("create app %q: %w", a.Key, err)
	}
	// Another gateway may have taken the id over meanwhile (it found the
	// claim without its app and took it for a leftover): then this app
	// gives way.
	if a.ID != "" {
		if owner, err := s.idOwner(ctx, a.ID); err == nil && owner != a.Key {
			_ = s.kv().Delete(ctx, appKey(a.Key), jetstream.LastRevision(e.Revision))
			return Entry{}, fieldErr("id", "id %q is app %q's", a.ID, owner)
		}
	}
	return e, nil
}

// Update changes the app with a key: change edits a copy of its settings,
// which are then checked and stored if the app is still at the revision
// read. rev, when not 0, is the revision the caller saw: any other is
// ErrConflict. With rev 0 a race with another write is tried again on the
// new settings (up to writeTries times, then ErrConflict).
func (s *Store) Update(ctx context.Context, key string, rev uint64, change func(*config.App) error) (Entry, error) {
	for try := 0; try < writeTries; try++ {
		// A revision the caller gives is checked against the bucket, not
		// against the view, which may not have it yet.
		cur, err := s.current(ctx, key, try > 0 || rev != 0)
		if err != nil {
			return Entry{}, err
		}
		if rev != 0 && cur.Revision != rev {
			return Entry{}, fmt.Errorf("%w: app %q is at revision %d, not %d: read it again", ErrConflict, key, cur.Revision, rev)
		}
		a := cur.App
		a.AllowedOrigins = append([]string(nil), a.AllowedOrigins...)
		a.WebhookEvents = append([]string(nil), a.WebhookEvents...)
		a.Webhooks = append([]config.WebhookEndpoint(nil), a.Webhooks...)
		if err := change(&a); err != nil {
			return Entry{}, err
		}
		e, err := s.replace(ctx, cur, a, cur.Source)
		if errors.Is(err, ErrConflict) && rev == 0 {
			continue
		}
		return e, err
	}
	return Entry{}, fmt.Errorf("%w: app %q changed %d times while being written: try again", ErrConflict, key, writeTries)
}

// Rotate gives the app with a key a new secret; the current one is
// accepted for grace more (config.App.Rotate).
func (s *Store) Rotate(ctx context.Context, key string, rev uint64, secret string, grace time.Duration) (Entry, error) {
	return s.Update(ctx, key, rev, func(a *config.App) error {
		a.Rotate(secret, grace, time.Now())
		return nil
	})
}

// Delete deletes the app with a key (at revision rev, when not 0).
func (s *Store) Delete(ctx context.Context, key string, rev uint64) error {
	for try := 0; try < writeTries; try++ {
		cur, err := s.current(ctx, key, try > 0 || rev != 0)
		if err != nil {
			return err
		}
		if rev != 0 && cur.Revision != rev {
			return fmt.Errorf("%w: app %q is at revision %d, not %d: read it again", ErrConflict, key, cur.Revision, rev)
		}
		err = s.kv().Delete(ctx, appKey(key), jetstream.LastRevision(cur.Revision))
		if conflict(err) && rev == 0 {
			continue
		}
		if conflict(err) {
			return fmt.Errorf("%w: app %q changed meanwhile", ErrConflict, key)
		}
		if err != nil {
			return fmt.Errorf("delete app %q: %w", key, err)
		}
		s.releaseID(ctx, cur.App.ID, key)
		return nil
	}
	return fmt.Errorf("%w: app %q changed %d times while being deleted: try again", ErrConflict, key, writeTries)
}

// replace stores a as the new settings of cur's app, if it is still at
// cur's revision (else ErrConflict).
func (s *Store) replace(ctx context.Context, cur Entry, a config.App, source string) (Entry, error) {
	if a.Key != cur.App.Key {
		return Entry{}, fieldErr("key", "the key of an app cannot change (%q): create another app", cur.App.Key)
	}
	if err := s.check(a); err != nil {
		return Entry{}, err
	}
	if a.ID != "" && a.ID != cur.App.ID {
		if err := s.claimID(ctx, a.ID, a.Key); err != nil {
			return Entry{}, err
		}
	}
	e := Entry{App: a, Source: source, Created: cur.Created, Updated: time.Now().UTC()}
	val, err := encode(e)
	if err != nil {
		return Entry{}, err
	}
	e.Revision, err = s.kv().Update(ctx, appKey(a.Key), val, cur.Revision)
	if conflict(err) {
		return Entry{}, fmt.Errorf("%w: app %q changed meanwhile", ErrConflict, a.Key)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("update app %q: %w", a.Key, err)
	}
	if cur.App.ID != "" && cur.App.ID != a.ID {
		s.releaseID(ctx, cur.App.ID, a.Key)
	}
	return e, nil
}

// Lookup reads the app with a key from the bucket itself (the view may lag
// a write by a moment); ErrNotFound when there is none.
func (s *Store) Lookup(ctx context.Context, key string) (Entry, error) {
	return s.current(ctx, key, true)
}

// current returns the app with a key: from the view, or with fresh from
// the bucket (the view lags a write by a moment; a retry reads the bucket).
func (s *Store) current(ctx context.Context, key string, fresh bool) (Entry, error) {
	if !fresh {
		if e, ok := s.Get(key); ok {
			return e, nil
		}
	}
	kve, err := s.kv().Get(ctx, appKey(key))
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return Entry{}, fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("read app %q: %w", key, err)
	}
	e, err := decode(kve.Key(), kve.Value(), kve.Revision())
	if err != nil {
		return Entry{}, fmt.Errorf("app %q in the store does not read (%w): delete it and create it again", key, err)
	}
	return e, nil
}

// check validates an app alone and against the others the view holds.
func (s *Store) check(a config.App) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if err := bus.CheckKey(s.opts.Bucket, appKey(a.Key)); err != nil {
		return fieldErr("key", "key %.40q… is too long", a.Key)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, w := range a.Webhooks {
		if w.NATSSubject == "" {
			continue
		}
		for _, other := range s.view {
			if other.App.Key == a.Key {
				continue
			}
			for _, ow := range other.App.Webhooks {
				if ow.NATSSubject == w.NATSSubject {
					return fieldErr(fmt.Sprintf("webhooks[%d].nats_subject", i), "webhooks[%d].nats_subject: %q is already the sink of app %q (%s); a sink's subject carries one sequence",
						i, w.NATSSubject, other.App.Key, ow.Name)
				}
			}
		}
	}
	return nil
}

// claimID takes the id for the app with key: id.{id} holds the key of the
// app that has it, created only if absent, so two apps never get one id.
// A claim whose app is gone or has another id now (a write cut short) is
// taken over.
func (s *Store) claimID(ctx context.Context, id, key string) error {
	k := idKey(id)
	if err := bus.CheckKey(s.opts.Bucket, k); err != nil {
		return fieldErr("id", "id %.40q… is too long", id)
	}
	for try := 0; try < writeTries; try++ {
		kve, err := s.kv().Get(ctx, k)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted):
			_, err = s.kv().Create(ctx, k, []byte(key))
			if errors.Is(err, jetstream.ErrKeyExists) {
				continue
			}
			if err != nil {
				return fmt.Errorf("claim id %q: %w", id, err)
			}
			return nil
		case err != nil:
			return fmt.Errorf("read id %q: %w", id, err)
		case string(kve.Value()) == key:
			return nil
		}
		owner := string(kve.Value())
		if e, err := s.current(ctx, owner, true); err == nil && e.App.ID == id {
			return fieldErr("id", "id %q is app %q's", id, owner)
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		_, err = s.kv().Update(ctx, k, []byte(key), kve.Revision())
		if conflict(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("claim id %q: %w", id, err)
		}
		return nil
	}
	return fmt.Errorf("%w: id %q changed hands %d times: try again", ErrConflict, id, writeTries)
}

// idOwner returns the key of the app that holds an id.
func (s *Store) idOwner(ctx context.Context, id string) (string, error) {
	kve, err := s.kv().Get(ctx, idKey(id))
	if err != nil {
		return "", err
	}
	return string(kve.Value()), nil
}

// releaseID gives up the id of the app with key, if that app holds it; a
// failure only leaves a claim that the next claim takes over.
func (s *Store) releaseID(ctx context.Context, id, key string) {
	if id == "" {
		return
	}
	kve, err := s.kv().Get(ctx, idKey(id))
	if err != nil || string(kve.Value()) != key {
		return
	}
	if err := s.kv().Delete(ctx, idKey(id), jetstream.LastRevision(kve.Revision())); err != nil && !conflict(err) {
		s.log.Debug("app store: release id", "id", id, "err", err)
	}
}

// conflict reports a write refused because the key is at another revision.
func conflict(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// fieldErr is a *config.FieldError.
func fieldErr(field, format string, args ...any) error {
	return &config.FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}
