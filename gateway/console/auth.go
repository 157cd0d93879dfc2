package console

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"github.com/pushd/pushd/gateway/api"
	"github.com/pushd/pushd/gateway/apps"
)

// errBadLogin is a console login that matches no secret of the app.
var errBadLogin = errors.New("console login does not match")

// login is who a request's credentials name.
type login struct {
	keys []string // the apps it may see
	// operator: logged in with the console password, so every app and
	// the server's own figures.
	operator bool
}

// pageHeader marks the page's own requests: their 401 comes without a
// challenge, so the browser shows the page's login form, not its own.
const pageHeader = "X-Pushd-Console"

// check reads a request's HTTP Basic credentials: the console password
// (any user) or, with console_with_secret, an app's key and secret.
func (c *Console) check(r *http.Request) login {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return login{}
	}
	if c.d.Password != "" && subtle.ConstantTimeCompare([]byte(pass), []byte(c.d.Password)) == 1 {
		return login{keys: c.d.Apps.Keys(), operator: true}
	}
	if a := c.d.Apps.Get(user); c.d.WithSecret && a != nil && a.Verify(time.Now(), func(secret string) error {
		if subtle.ConstantTimeCompare([]byte(pass), []byte(secret)) != 1 {
			return errBadLogin
		}
		return nil
	}) == nil {
		return login{keys: []string{a.Key}}
	}
	return login{}
}

// on reports whether the console is configured on; off, it answers 404.
func (c *Console) on(w http.ResponseWriter) bool {
	if c.d.Password == "" && !c.d.WithSecret {
		api.WriteError(w, http.StatusNotFound, "the console is off: set console_password or console_with_secret")
		return false
	}
	return true
}

// auth passes on the login of a request with valid credentials and
// answers 401 to the others.
func (c *Console) auth(f func(http.ResponseWriter, *http.Request, login)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !c.on(w) {
			return
		}
		l := c.check(r)
		if len(l.keys) == 0 {
			if r.Header.Get(pageHeader) == "" {
				w.Header().Set("WWW-Authenticate", `Basic realm="pushd console"`)
			}
			api.WriteError(w, http.StatusUnauthorized, "console login required: the console password (any user name), or an app's key and secret with console_with_secret")
			return
		}
		f(w, r, l)
	}
}

// app resolves the ?app= the caller may see.
func (c *Console) app(f func(http.ResponseWriter, *http.Request, *apps.App, login)) http.HandlerFunc {
	return c.auth(func(w http.ResponseWriter, r *http.Request, l login) {
		key := r.URL.Query().Get("app")
		for _, k := range l.keys {
			if a := c.d.Apps.Get(k); k == key && a != nil {
				f(w, r, a, l)
				return
			}
		}
		api.WriteError(w, http.StatusNotFound, "unknown app")
	})
}
