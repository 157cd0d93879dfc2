package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pushd/pushd/appstore"
	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/api"
)

const (
	// MinSecret is the shortest secret the admin API takes (a generated
	// one has 32 characters).
	MinSecret = 16
	// DefaultGrace is how long a rotated-out secret keeps working when the
	// rotation does not say; MaxGrace the most it may.
	DefaultGrace = 24 * time.Hour
	MaxGrace     = 30 * 24 * time.Hour
	// maxBody bounds a request body.
	maxBody = 64 << 10
	// writeTimeout bounds a write and the wait until this gateway serves it.
	writeTimeout = 15 * time.Second
)

// names are what keys and ids made through the admin API may be (files may
// hold others).
var names = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// secretFields may only change through a rotation.
var secretFields = []string{"secret", "previous_secret", "previous_secret_expires"}

func (a *Admin) list(w http.ResponseWriter, r *http.Request) {
	type item struct {
		ID       string `json:"id"`
		Key      string `json:"key"`
		Disabled bool   `json:"disabled"`
		Source   string `json:"source"`
	}
	entries := a.d.Store.List()
	out := make([]item, len(entries))
	for i, e := range entries {
		out[i] = item{ID: e.App.ID, Key: e.App.Key, Disabled: e.App.Disabled, Source: e.Source}
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"apps": out})
}

func (a *Admin) show(w http.ResponseWriter, r *http.Request) {
	e, ok := a.d.Store.Get(r.PathValue("key"))
	if !ok {
		api.WriteError(w, http.StatusNotFound, "no app with key "+strconv.Quote(r.PathValue("key")))
		return
	}
	a.answer(w, http.StatusOK, e, "")
}

// create stores a new app from the JSON form of its settings; a missing
// key, id or secret is generated.
func (a *Admin) create(w http.ResponseWriter, r *http.Request) {
	body, fields, err := readBody(w, r)
	if err != nil {
		a.fail(w, err)
		return
	}
	var app config.App
	if err := config.DecodeAppJSON(body, &app, false); err != nil {
		a.fail(w, err)
		return
	}
	for _, f := range secretFields[1:] {
		if fields[f] {
			a.fail(w, fieldErr(f, "%s is set by a rotation (POST /admin/apps/{key}/rotate), not at creation", f))
			return
		}
	}
	if err := a.fill(&app, fields); err != nil {
		a.fail(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), writeTimeout)
	defer cancel()
	// An existing app's stream must not be declared with this one's
	// settings, nor retired when this create fails.
	if _, err := a.d.Store.Lookup(ctx, app.Key); !errors.Is(err, appstore.ErrNotFound) {
		if err == nil {
			err = fieldErr("key", "an app with key %q exists", app.Key)
		}
		a.fail(w, err)
		return
	}
	if err := a.prepare(ctx, app); err != nil {
		a.fail(w, err)
		return
	}
	e, err := a.d.Store.Create(ctx, app, appstore.SourceAPI)
	for tries := 0; config.ErrorField(err) == "id" && !fields["id"] && tries < 3; tries++ {
		app.ID = randomID() // a generated id that happened to be taken
		e, err = a.d.Store.Create(ctx, app, appstore.SourceAPI)
	}
	if err != nil {
		a.retire(ctx, app.Key) // the stream prepared for it, unless the key is taken meanwhile
		a.fail(w, err)
		return
	}
	a.wait(ctx, e)
	a.d.Logger.Info("admin: app created", slog.String("app", app.Key), slog.String("id", app.ID))
	a.answer(w, http.StatusCreated, e, app.Secret)
}

// fill checks the key, id and secret of a new app and generates the
// missing ones.
func (a *Admin) fill(app *config.App, fields map[string]bool) error {
	switch {
	case !fields["key"]:
		app.Key = randomHex(10)
	case !names.MatchString(app.Key):
		return fieldErr("key", "key %q: use 1 to 64 of A-Z a-z 0-9 _ . -", app.Key)
	}
	switch {
	case !fields["id"]:
		app.ID = randomID()
	case app.ID != "" && !names.MatchString(app.ID):
		return fieldErr("id", "id %q: use 1 to 64 of A-Z a-z 0-9 _ . - (or \"\": any /apps/{id} path)", app.ID)
	}
	if !fields["secret"] {
		app.Secret = randomHex(16)
	}
	return checkSecret(app.Secret)
}

func checkSecret(s string) error {
	if len(s) < MinSecret {
		return fieldErr("secret", "secret: at least %d bytes (leave it out to have one generated)", MinSecret)
	}
	return nil
}

// update changes the fields the JSON body names (a merge: the others stay);
// If-Match, when given, is the revision the caller read.
func (a *Admin) update(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	rev, err := ifMatch(r)
	if err != nil {
		a.fail(w, err)
		return
	}
	body, fields, err := readBody(w, r)
	if err != nil {
		a.fail(w, err)
		return
	}
	for _, f := range secretFields {
		if fields[f] {
			a.fail(w, fieldErr(f, "%s changes through a rotation: POST /admin/apps/{key}/rotate", f))
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), writeTimeout)
	defer cancel()
	e, err := a.d.Store.Update(ctx, key, rev, func(app *config.App) error {
		if err := config.DecodeAppJSON(body, app, false); err != nil {
			return err
		}
		if app.Key != key {
			return fieldErr("key", "the key of an app cannot change (%q): create another app", key)
		}
		if fields["id"] && app.ID != "" && !names.MatchString(app.ID) {
			return fieldErr("id", "id %q: use 1 to 64 of A-Z a-z 0-9 _ . -", app.ID)
		}
		return a.prepare(ctx, *app)
	})
	if err != nil {
		a.fail(w, err)
		return
	}
	a.wait(ctx, e)
	a.d.Logger.Info("admin: app updated", slog.String("app", key), slog.Any("fields", sortedKeys(fields)))
	a.answer(w, http.StatusOK, e, "")
}

// rotate gives the app a new secret (generated unless the body has one);
// the old one is accepted for the grace period (default 24h, "0s": not at
// all).
func (a *Admin) rotate(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	rev, err := ifMatch(r)
	if err != nil {
		a.fail(w, err)
		return
	}
	body, fields, err := readBody(w, r)
	if err != nil {
		a.fail(w, err)
		return
	}
	var req struct {
		Secret *string `json:"secret"`
		Grace  *string `json:"grace"`
	}
	for f := range fields {
		if f != "secret" && f != "grace" {
			a.fail(w, fieldErr(f, "%s: unknown field (a rotation takes secret and grace)", f))
			return
		}
	}
	if len(fields) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				a.fail(w, fieldErr(te.Field, "%s: want a string", te.Field))
				return
			}
			a.fail(w, fieldErr("", "rotate body: %v", err))
			return
		}
	}
	grace := DefaultGrace
	if req.Grace != nil {
		d, err := time.ParseDuration(*req.Grace)
		if err != nil || d < 0 || d > MaxGrace {
			a.fail(w, fieldErr("grace", "grace: a duration from \"0s\" to %q, got %q", MaxGrace.String(), *req.Grace))
			return
		}
		grace = d
	}
	secret := randomHex(16)
	if req.Secret != nil {
		secret = *req.Secret
	}
	if err := checkSecret(secret); err != nil {
		a.fail(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), writeTimeout)
	defer cancel()
	e, err := a.d.Store.Rotate(ctx, key, rev, secret, grace)
	if err != nil {
		a.fail(w, err)
		return
	}
	a.wait(ctx, e)
	a.d.Logger.Info("admin: app secret rotated", slog.String("app", key), slog.Duration("grace", grace))
	a.answer(w, http.StatusOK, e, secret)
}

func (a *Admin) delete(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	rev, err := ifMatch(r)
	if err != nil {
		a.fail(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), writeTimeout)
	defer cancel()
	if err := a.d.Store.Delete(ctx, key, rev); err != nil {
		a.fail(w, err)
		return
	}
	if err := a.d.Store.WaitGone(ctx, key); err != nil {
		a.d.Logger.Warn("admin: app deleted, not yet gone from this gateway", slog.String("app", key), slog.Any("err", err))
	}
	out := map[string]any{"deleted": key}
	if err := a.retire(ctx, key); err != nil {
		a.d.Logger.Warn("admin: the deleted app's stream stays", slog.String("app", key), slog.Any("err", err))
		out["warning"] = "the app's event stream could not be deleted: " + err.Error()
	}
	a.d.Logger.Info("admin: app deleted", slog.String("app", key))
	api.WriteJSON(w, http.StatusOK, out)
}

// retire deletes the event stream of the app with key, if no app has that
// key (one created meanwhile keeps its stream).
func (a *Admin) retire(ctx context.Context, key string) error {
	if a.d.Retire == nil {
		return nil
	}
	if _, err := a.d.Store.Lookup(ctx, key); !errors.Is(err, appstore.ErrNotFound) {
		return err // nil: the key is an app's again
	}
	return a.d.Retire(ctx, key)
}

// prepare declares what app needs (its defaults filled) before it is
// stored, once its settings are known to be valid.
func (a *Admin) prepare(ctx context.Context, app config.App) error {
	if err := app.Validate(); err != nil {
		return err
	}
	if a.d.Prepare == nil {
		return nil
	}
	app.Defaults()
	if err := a.d.Prepare(ctx, app); err != nil {
		return &unavailable{err}
	}
	return nil
}

// wait returns once this gateway serves e, so that the caller can use the
// app on this gateway as soon as the answer comes (other gateways follow
// within a moment).
func (a *Admin) wait(ctx context.Context, e appstore.Entry) {
	if err := a.d.Store.Wait(ctx, e.Revision); err != nil {
		a.d.Logger.Warn("admin: app written, not yet served by this gateway", slog.String("app", e.App.Key), slog.Any("err", err))
	}
}

// readBody reads a JSON body (at most maxBody) and the names of the fields
// of its top-level object.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, map[string]bool, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, nil, &api.Error{Status: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("body over %d bytes", maxBody)}
		}
		return nil, nil, &api.Error{Status: http.StatusBadRequest, Msg: "read body: " + err.Error()}
	}
	fields := map[string]bool{}
	if len(bytes.TrimSpace(body)) == 0 {
		return body, fields, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, nil, &api.Error{Status: http.StatusBadRequest, Msg: "the body must be a JSON object of app settings (the names of the config file's apps[] entries)"}
	}
	for k := range m {
		fields[k] = true
	}
	return body, fields, nil
}

// ifMatch reads the revision of an If-Match header ("12" or 12); 0 if none.
func ifMatch(r *http.Request) (uint64, error) {
	h := strings.Trim(strings.TrimSpace(r.Header.Get("If-Match")), `"`)
	if h == "" || h == "*" {
		return 0, nil
	}
	rev, err := strconv.ParseUint(h, 10, 64)
	if err != nil {
		return 0, &api.Error{Status: http.StatusBadRequest, Msg: "If-Match: want the app's revision (its ETag), got " + strconv.Quote(h)}
	}
	return rev, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
