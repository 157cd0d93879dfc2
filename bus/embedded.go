package bus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// embedded is the nats-server that runs inside pushd. It can be restarted in
// place (storage recovery): the pushd connection reaches whichever server
// runs through InProcessConn and reconnects to the new one by itself.
type embedded struct {
	opts Options
	log  *natsLogger
	lock *dirLock

	mu sync.Mutex
	ns *server.Server
}

// embeddedReady is how long a starting server may take to accept connections.
const embeddedReady = 10 * time.Second

// startEmbedded runs a nats-server with JetStream inside this process. It
// owns the data directory (a lock file keeps a second pushd out) and
// listens for NATS clients only when opts.Listen is set, always with
// authentication.
func startEmbedded(opts Options, log *natsLogger) (*embedded, error) {
	if opts.Listen != "" && !listenerSecured(opts.ListenAuth) {
		return nil, errors.New("nats listener: no credentials configured (nats_listen_auth)")
	}
	dir := opts.DataDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	if err := writable(filepath.Join(dir, "jetstream")); err != nil {
		lock.release()
		return nil, fmt.Errorf("data dir %s is not writable: %w", dir, err)
	}
	e := &embedded{opts: opts, log: log, lock: lock}
	if err := e.start(); err != nil {
		lock.release()
		return nil, err
	}
	return e, nil
}

// writable creates dir when missing and proves a file can be written in it,
// so an unusable data directory is reported at once with its cause.
func writable(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".pushd-probe-*")
	if err != nil {
		return err
	}
	_, werr := f.Write([]byte("pushd"))
	cerr := f.Close()
	os.Remove(f.Name())
	return errors.Join(werr, cerr)
}

// serverOptions are the options of one server start (NewServer keeps and
// changes them, so every start gets its own).
func (e *embedded) serverOptions() (*server.Options, error) {
	o := &server.Options{
		ServerName:        "pushd-embedded",
		JetStream:         true,
		StoreDir:          filepath.Join(e.opts.DataDir, "jetstream"),
		JetStreamMaxStore: e.opts.MaxStore,
		NoSigs:            true, // the embedding process owns SIGINT/SIGTERM
		DontListen:        e.opts.Listen == "",
	}
	if e.opts.Listen == "" {
		return o, nil
	}
	host, port, err := net.SplitHostPort(e.opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("nats listen address %q: %w", e.opts.Listen, err)
	}
	o.Host = host
	if o.Port, err = strconv.Atoi(port); err != nil {
		return nil, fmt.Errorf("nats listen port %q: %w", port, err)
	}
	if err := secureListener(o, e.opts.ListenAuth); err != nil {
		return nil, err
	}
	return o, nil
}

// start creates and starts a server, and waits until it accepts
// connections; a server that cannot start is reported with its own error.
func (e *embedded) start() error {
	o, err := e.serverOptions()
	if err != nil {
		return err
	}
	ns, err := server.NewServer(o)
	if err != nil {
		return fmt.Errorf("embedded nats: %w", err)
	}
	ns.SetLogger(e.log, e.log.debug(), false)
	ns.Start()
	if f := e.log.fatalErr(); f != "" {
		ns.Shutdown()
		return fmt.Errorf("embedded nats: %s", f)
	}
	if !ns.ReadyForConnections(embeddedReady) {
		ns.Shutdown()
		if f := e.log.failure(); f != "" {
			return fmt.Errorf("embedded nats: not ready after %s: %s", embeddedReady, f)
		}
		return fmt.Errorf("embedded nats: not ready after %s", embeddedReady)
	}
	e.mu.Lock()
	e.ns = ns
	e.mu.Unlock()
	return nil
}

// server is the running server (nil while it restarts).
func (e *embedded) server() *server.Server {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ns
}

// InProcessConn connects to the running server without TCP.
func (e *embedded) InProcessConn() (net.Conn, error) {
	ns := e.server()
	if ns == nil {
		return nil, errors.New("embedded nats: restarting")
	}
	return ns.InProcessConn()
}

// restart stops the server and starts a new one on the same storage: the
// way to clear a stream's write error once the disk has room again.
func (e *embedded) restart() error {
	e.mu.Lock()
	old := e.ns
	e.ns = nil
	e.mu.Unlock()
	if old != nil {
		old.Shutdown()
		old.WaitForShutdown()
	}
	e.log.reset()
	return e.start()
}

// shutdown stops the server and releases the data directory.
func (e *embedded) shutdown() {
	e.mu.Lock()
	ns := e.ns
	e.ns = nil
	e.mu.Unlock()
	if ns != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
	}
	e.lock.release()
}

// storageErr asks the server's own health check whether JetStream and its
// streams work; a stream that failed to write (a full disk) is named with
// its error.
//
// A stream being created has its directory on disk a moment before the
// server knows the stream (and a deleted one a moment after), which the
// health check reports as a stream that "could not be recovered". So a
// cause counts only when the same one is reported again healthSettle later;
// while streams keep coming and going (another one each time), none does,
// and a lasting failure is caught by a later check.
func (e *embedded) storageErr(ctx context.Context) error {
	cause := e.health()
	for range healthLooks {
		if cause == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return cause
		case <-time.After(healthSettle):
		}
		again := e.health()
		if again != nil && cause.Error() == again.Error() {
			return again
		}
		cause = again
	}
	return nil
}

// healthSettle and healthLooks bound how storageErr confirms a cause: up
// to healthLooks more looks, healthSettle apart.
const (
	healthSettle = 100 * time.Millisecond
	healthLooks  = 3
)

// health is one look at the server's health check.
func (e *embedded) health() error {
	ns := e.server()
	if ns == nil {
		return errors.New("embedded nats: restarting")
	}
	h := ns.Healthz(&server.HealthzOptions{})
	if h == nil || h.Status == "ok" {
		return nil
	}
	return fmt.Errorf("nats health: %s", h.Error)
}
