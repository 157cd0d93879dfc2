package appstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/pushd/pushd/config"
)

// SeedResult counts what a Seed wrote.
type SeedResult struct {
	Created, Updated, Deleted, Same int
	// Revision is the last revision written (0: none): Wait for it to
	// serve what the file says.
	Revision uint64
}

// Seed writes the apps of a configuration file (and the flags) into the
// store. The file wins for the apps it names: each is written as the file
// has it unless the store already holds exactly that (source "file"), over
// any change made through the admin API. An app a file seeded earlier that
// this one no longer names is deleted; apps made through the admin API are
// left alone. With prune false nothing is deleted: a gateway that runs
// without a file (its generated app) adds its app and leaves the others'.
func (s *Store) Seed(ctx context.Context, list []config.App, prune bool) (SeedResult, error) {
	var res SeedResult
	if err := s.sync(ctx); err != nil { // compare with what the bucket has now
		return res, err
	}
	named := make(map[string]bool, len(list))
	for _, a := range list {
		named[a.Key] = true
		rev, what, err := s.seedOne(ctx, a)
		if err != nil {
			return res, fmt.Errorf("app %q of the configuration: %w", a.Key, err)
		}
		switch what {
		case "created":
			res.Created++
		case "updated":
			res.Updated++
		default:
			res.Same++
		}
		res.Revision = max(res.Revision, rev)
	}
	for _, e := range s.List() {
		if !prune || e.Source != SourceFile || named[e.App.Key] {
			continue
		}
		if err := s.Delete(ctx, e.App.Key, 0); err != nil && !errors.Is(err, ErrNotFound) {
			return res, fmt.Errorf("app %q, no longer in the configuration: %w", e.App.Key, err)
		}
		s.log.Info("app deleted: the configuration no longer names it", slog.String("app", e.App.Key))
		res.Deleted++
	}
	return res, nil
}

// seedOne writes one app of the file unless the store has it as it is.
func (s *Store) seedOne(ctx context.Context, a config.App) (uint64, string, error) {
	want, err := config.MarshalAppJSON(a)
	if err != nil {
		return 0, "", err
	}
	for try := 0; try < writeTries; try++ {
		cur, err := s.current(ctx, a.Key, try > 0)
		if errors.Is(err, ErrNotFound) {
			e, err := s.Create(ctx, a, SourceFile)
			if config.ErrorField(err) == "key" { // created meanwhile
				continue
			}
			return e.Revision, "created", err
		}
		if err != nil {
			return 0, "", err
		}
		have, err := config.MarshalAppJSON(cur.App)
		if err != nil {
			return 0, "", err
		}
		if cur.Source == SourceFile && bytes.Equal(have, want) {
			return 0, "same", nil
		}
		e, err := s.replace(ctx, cur, a, SourceFile)
		if errors.Is(err, ErrConflict) {
			continue
		}
		return e.Revision, "updated", err
	}
	return 0, "", fmt.Errorf("%w: changed %d times while being seeded", ErrConflict, writeTries)
}
