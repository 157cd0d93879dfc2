package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrStorage reports that JetStream cannot store events (a full or failing
// disk, a storage limit reached); the error says why and since when.
var ErrStorage = errors.New("bus: event storage failing")

// storageError is ErrStorage with its cause.
type storageError struct {
	cause error
	since time.Time
}

func (e *storageError) Error() string {
	return fmt.Sprintf("event storage failing since %s: %v", e.since.UTC().Format(time.RFC3339), e.cause)
}

func (e *storageError) Unwrap() []error { return []error{ErrStorage, e.cause} }

const (
	// storageCheck is how often a failing storage is checked again (and an
	// embedded server's health read while it works).
	storageCheck = time.Second
	// restartFirst and restartMax bound the wait between two restarts of
	// the embedded server that did not bring its storage back.
	restartFirst, restartMax = 5 * time.Second, time.Minute
	// roomNeeded is the free space the store directory must have before
	// the embedded server is restarted to recover from a full disk.
	roomNeeded = 1 << 20
	// probeStream takes the probe writes that tell whether storage works.
	probeStream  = "PUSHD_PROBE"
	probeSubject = "pushd.probe"
)

// storage watches whether JetStream can store, and brings an embedded
// server's storage back once the disk has room again. A publish that fails
// asks for a check at once; while storage fails it is checked every
// storageCheck. The check is the embedded server's own health (it names a
// stream that could not write, with the error: "no space left on device"),
// then a probe write to a small stream of its own (a JetStream limit, a
// cluster that cannot store). nats-server keeps a stream's write error until
// the stream is loaded again, so the embedded server is restarted in place
// when its store directory has room.
type storage struct {
	b    *Bus
	kick chan struct{}

	mu        sync.Mutex
	err       *storageError // nil while storage works
	restartAt time.Time
	backoff   time.Duration
	probe     jetstream.Stream
}

func newStorage(b *Bus) *storage {
	return &storage{b: b, kick: make(chan struct{}, 1), backoff: restartFirst}
}

// failing returns the current storage error (an ErrStorage), or nil.
func (s *storage) failing() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		return nil
	}
	return s.err
}

// published reports a publish's outcome: a failure that can come from
// storage asks for a check.
func (s *storage) published(err error) {
	if err == nil || errors.Is(err, ErrSubjectTooLong) || errors.Is(err, ErrStorage) || errors.Is(err, context.Canceled) ||
		s.b.nc.Status() != nats.CONNECTED {
		return // bad input, the caller gave up, or the connection is down (Ready says so)
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// run checks storage until ctx ends.
func (s *storage) run(ctx context.Context) {
	t := time.NewTicker(storageCheck)
	defer t.Stop()
	for {
		full := false
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
			full = true
		case <-t.C:
			full = s.failing() != nil
			if !full && s.b.emb == nil {
				continue
			}
		}
		s.check(ctx, full)
	}
}

// check reads the embedded server's health and, when full (a publish failed
// or storage is failing), probes with a write. A failing embedded store is
// restarted when there is room.
func (s *storage) check(ctx context.Context, full bool) {
	var cause error
	if e := s.b.emb; e != nil {
		if cause = e.storageErr(ctx); cause != nil {
			s.set(cause)
			s.recover(cause)
			cause = e.storageErr(ctx)
		}
	}
	if cause == nil && full {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		cause = s.write(pctx)
		cancel()
	}
	if ctx.Err() == nil && (cause != nil || full) {
		s.set(cause)
	}
}

// write stores a probe message, declaring the probe stream first.
func (s *storage) write(ctx context.Context) error {
	s.mu.Lock()
	st := s.probe
	s.mu.Unlock()
	if st == nil {
		var err error
		st, err = s.b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name:        probeStream,
			Description: "Pushd storage probe: the last write that checked JetStream stores",
			Subjects:    []string{probeSubject},
			Storage:     jetstream.FileStorage,
			MaxMsgs:     1,
			Discard:     jetstream.DiscardOld,
			Replicas:    s.b.replicas,
		})
		if err != nil {
			return fmt.Errorf("probe stream: %w", err)
		}
		s.mu.Lock()
		s.probe = st
		s.mu.Unlock()
	}
	if _, err := s.b.js.Publish(ctx, probeSubject, []byte("probe")); err != nil {
		return fmt.Errorf("probe write: %w", err)
	}
	return nil
}

// set records the outcome of a check and logs the transitions.
func (s *storage) set(cause error) {
	s.mu.Lock()
	prev := s.err
	switch {
	case cause == nil:
		s.err, s.backoff = nil, restartFirst
	case prev == nil:
		s.err = &storageError{cause: cause, since: time.Now()}
	default:
		s.err = &storageError{cause: cause, since: prev.since}
	}
	s.mu.Unlock()
	switch {
	case cause != nil && prev == nil:
		s.b.log.Error("event storage failing", slog.Any("cause", cause))
	case cause == nil && prev != nil:
		s.b.log.Info("event storage works again", slog.Duration("after", time.Since(prev.since).Round(time.Millisecond)))
	}
}

// recover restarts the embedded server when its store directory has room
// again, at most once per backoff (which grows while restarts do not help).
func (s *storage) recover(cause error) {
	s.mu.Lock()
	due := time.Now().After(s.restartAt)
	s.mu.Unlock()
	dir := filepath.Join(s.b.emb.opts.DataDir, "jetstream")
	if !due {
		return
	}
	if err := hasRoom(dir, roomNeeded); err != nil {
		s.b.log.Debug("event storage still without room", slog.String("dir", dir), slog.Any("err", err))
		return
	}
	s.mu.Lock()
	s.restartAt = time.Now().Add(s.backoff)
	s.backoff = min(2*s.backoff, restartMax)
	s.mu.Unlock()
	s.b.log.Warn("restarting the embedded NATS server to recover its storage", slog.Any("cause", cause))
	if err := s.b.emb.restart(); err != nil {
		s.b.log.Error("embedded NATS restart failed", slog.Any("err", err))
	}
}

// hasRoom proves that n bytes can be written in dir.
func hasRoom(dir string, n int) error {
	f, err := os.CreateTemp(dir, ".pushd-room-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, werr := f.Write(make([]byte, n))
	return errors.Join(werr, f.Close())
}
