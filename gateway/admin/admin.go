// Package admin is the admin door on the API port: the apps of the app store
// listed, shown, created, changed, rotated and deleted at run time
// (/admin/apps…), for callers that send the admin token. It is off (404)
// when no token is configured. Secrets are shown once, in the answer to a
// create or a rotation, and never again.
package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pushd/pushd/appstore"
	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/api"
)

// Store is the app store as the admin API uses it; *appstore.Store is the
// implementation.
type Store interface {
	List() []appstore.Entry
	Get(key string) (appstore.Entry, bool)
	Lookup(ctx context.Context, key string) (appstore.Entry, error)
	Create(ctx context.Context, a config.App, source string) (appstore.Entry, error)
	Update(ctx context.Context, key string, rev uint64, change func(*config.App) error) (appstore.Entry, error)
	Rotate(ctx context.Context, key string, rev uint64, secret string, grace time.Duration) (appstore.Entry, error)
	Delete(ctx context.Context, key string, rev uint64) error
	Wait(ctx context.Context, rev uint64) error
	WaitGone(ctx context.Context, key string) error
}

// Deps are what the admin API is built on.
type Deps struct {
	Store Store
	// Token is the admin token; empty turns the admin API off.
	Token string
	// Prepare declares what an app needs before it is stored, with its
	// defaults filled: its event stream and NATS sink streams.
	Prepare func(ctx context.Context, a config.App) error
	// Retire removes what a deleted app leaves behind: its event stream.
	Retire func(ctx context.Context, key string) error
	// RefuseAuth answers a wrong or missing token (401, or 429 past the
	// address's failure budget); (*api.Server).RefuseAuth is the
	// implementation. Nil: 401.
	RefuseAuth func(w http.ResponseWriter, r *http.Request, reason string)
	Logger     *slog.Logger
}

// Admin serves the admin API.
type Admin struct {
	d     Deps
	token [sha256.Size]byte
}

// New builds the admin API.
func New(d Deps) *Admin {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.RefuseAuth == nil {
		d.RefuseAuth = func(w http.ResponseWriter, _ *http.Request, reason string) {
			api.WriteError(w, http.StatusUnauthorized, reason)
		}
	}
	return &Admin{d: d, token: sha256.Sum256([]byte(d.Token))}
}

// Register adds the admin routes to mux.
func (a *Admin) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/apps", a.auth(a.list))
	mux.HandleFunc("POST /admin/apps", a.auth(a.create))
	mux.HandleFunc("GET /admin/apps/{key}", a.auth(a.show))
	mux.HandleFunc("PATCH /admin/apps/{key}", a.auth(a.update))
	mux.HandleFunc("DELETE /admin/apps/{key}", a.auth(a.delete))
	mux.HandleFunc("POST /admin/apps/{key}/rotate", a.auth(a.rotate))
	mux.HandleFunc("/admin/", a.auth(func(w http.ResponseWriter, r *http.Request) {
		api.WriteError(w, http.StatusNotFound, "no admin route "+r.Method+" "+r.URL.Path+
			": GET|POST /admin/apps, GET|PATCH|DELETE /admin/apps/{key}, POST /admin/apps/{key}/rotate")
	}))
}

// auth lets through requests with the admin token (Authorization: Bearer),
// compared in constant time (of its SHA-256, so not even its length shows).
func (a *Admin) auth(f http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.d.Token == "" {
			api.WriteError(w, http.StatusNotFound, "the admin API is off: set admin_token (or PUSHD_ADMIN_TOKEN) on the server")
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if !ok || subtle.ConstantTimeCompare(sum[:], a.token[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pushd admin"`)
			a.d.RefuseAuth(w, r, "admin API: missing or wrong token (Authorization: Bearer <admin_token>)")
			return
		}
		w.Header().Set("Cache-Control", "no-store") // answers may carry a secret
		f(w, r)
	}
}
