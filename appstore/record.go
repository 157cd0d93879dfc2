package appstore

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/config"
)

// schema is the version of the values this pushd writes. A reader skips
// (and logs) values of a newer schema: a newer pushd changed their meaning.
// Fields it does not know within a known schema are ignored, so a newer
// pushd may add settings without a new schema.
const schema = 1

// record is the value of an app's key: its settings in the JSON form of
// the configuration file (config.MarshalAppJSON) and where they came from.
type record struct {
	Schema  int             `json:"schema"`
	Source  string          `json:"source"`
	Created time.Time       `json:"created"`
	Updated time.Time       `json:"updated"`
	App     json.RawMessage `json:"app"`
}

// encode returns the value of e.
func encode(e Entry) ([]byte, error) {
	app, err := config.MarshalAppJSON(e.App)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(record{Schema: schema, Source: e.Source, Created: e.Created.UTC(), Updated: e.Updated.UTC(), App: app})
	if err != nil {
		return nil, fmt.Errorf("encode app %q: %w", e.App.Key, err)
	}
	return b, nil
}

// decode reads the value of the bucket key kvKey ("app.{token}").
func decode(kvKey string, value []byte, rev uint64) (Entry, error) {
	key, err := keyOf(kvKey)
	if err != nil {
		return Entry{}, err
	}
	var r record
	if err := json.Unmarshal(value, &r); err != nil {
		return Entry{}, fmt.Errorf("not a JSON app record: %w", err)
	}
	switch {
	case r.Schema == 0:
		return Entry{}, fmt.Errorf("no schema version")
	case r.Schema > schema:
		return Entry{}, fmt.Errorf("schema %d, written by a newer pushd (this one reads %d)", r.Schema, schema)
	case r.Source != SourceFile && r.Source != SourceAPI:
		return Entry{}, fmt.Errorf("unknown source %q", r.Source)
	}
	e := Entry{Source: r.Source, Created: r.Created, Updated: r.Updated, Revision: rev}
	if err := config.DecodeAppJSON(r.App, &e.App, true); err != nil {
		return Entry{}, fmt.Errorf("app settings: %w", err)
	}
	if e.App.Key != key {
		return Entry{}, fmt.Errorf("the settings are app %q's, the bucket key app %q's", e.App.Key, key)
	}
	if err := e.App.Validate(); err != nil {
		return Entry{}, fmt.Errorf("invalid settings: %w", err)
	}
	return e, nil
}

// keyOf is the app key of a bucket key "app.{token}".
func keyOf(kvKey string) (string, error) {
	tok, ok := strings.CutPrefix(kvKey, "app.")
	if !ok {
		return "", fmt.Errorf("bucket key %q is not an app's", kvKey)
	}
	key, err := bus.DecodeToken(tok)
	if err != nil {
		return "", fmt.Errorf("bucket key %q: %w", kvKey, err)
	}
	return key, nil
}
