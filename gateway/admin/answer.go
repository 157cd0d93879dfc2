package admin

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strconv"

	"github.com/pushd/pushd/appstore"
	"github.com/pushd/pushd/config"
	"github.com/pushd/pushd/gateway/api"
)

// answer writes an app as the admin API shows it: its settings without the
// secrets (the secret only when one was just made, on a create or a
// rotation), its revision (also the ETag), source and times.
func (a *Admin) answer(w http.ResponseWriter, status int, e appstore.Entry, secret string) {
	settings, err := config.MarshalAppJSON(e.App, "secret", "previous_secret", "encryption_master_key")
	if err != nil {
		api.WriteErr(w, err)
		return
	}
	out := struct {
		App                    json.RawMessage `json:"app"`
		Secret                 string          `json:"secret,omitempty"`
		HasPreviousSecret      bool            `json:"has_previous_secret"`
		EncryptionMasterKeySet bool            `json:"encryption_master_key_set"`
		Revision               uint64          `json:"revision"`
		Source                 string          `json:"source"`
		Created                string          `json:"created"`
		Updated                string          `json:"updated"`
	}{settings, secret, e.App.PreviousSecret != "", e.App.EncryptionMasterKey != "", e.Revision, e.Source,
		e.Created.Format("2006-01-02T15:04:05.000Z07:00"), e.Updated.Format("2006-01-02T15:04:05.000Z07:00")}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatUint(e.Revision, 10)))
	api.WriteJSON(w, status, out)
}

// unavailable is a failure to declare an app's streams (NATS refused or did
// not answer): 503.
type unavailable struct{ err error }

func (u *unavailable) Error() string {
	return "the app's event stream could not be declared: " + u.err.Error()
}
func (u *unavailable) Unwrap() error { return u.err }

// fail answers an error: a *config.FieldError is 400 with the field named,
// ErrNotFound 404, ErrConflict 409, an *api.Error its status, a stream that
// could not be declared 503, anything else 500.
func (a *Admin) fail(w http.ResponseWriter, err error) {
	var (
		fe *config.FieldError
		ae *api.Error
		un *unavailable
	)
	switch {
	case errors.As(err, &fe):
		out := map[string]string{"error": fe.Error()}
		if fe.Field != "" {
			out["field"] = fe.Field
		}
		api.WriteJSON(w, http.StatusBadRequest, out)
	case errors.Is(err, appstore.ErrNotFound):
		api.WriteError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, appstore.ErrConflict):
		api.WriteError(w, http.StatusConflict, err.Error())
	case errors.As(err, &ae):
		api.WriteError(w, ae.Status, ae.Msg)
	case errors.As(err, &un):
		api.WriteError(w, http.StatusServiceUnavailable, err.Error())
	default:
		a.d.Logger.Error("admin API", "err", err)
		api.WriteError(w, http.StatusInternalServerError, err.Error())
	}
}

// fieldErr is a *config.FieldError.
func fieldErr(field, format string, args ...any) error {
	return &config.FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// randomHex returns n random bytes in hex (2n characters).
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// randomID returns a numeric app id, as Pusher's are.
func randomID() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(9_000_000))
	return strconv.FormatInt(n.Int64()+1_000_000, 10)
}
