package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// yamlKeys lists every key a configuration file may hold, as the paths
// docs/configuration.md names them: nats.user, apps[].key,
// apps[].webhooks[].url. Inline structs add their keys to the parent's.
func yamlKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if strings.Contains(opts, "inline") {
			keys = append(keys, yamlKeys(f.Type, prefix)...)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		path := prefix + name
		keys = append(keys, path)
		switch ft := f.Type; {
		case ft.Kind() == reflect.Struct && ft.PkgPath() == t.PkgPath():
			keys = append(keys, yamlKeys(ft, path+".")...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			keys = append(keys, yamlKeys(ft.Elem(), path+"[].")...)
		}
	}
	return keys
}

// TestReferenceNamesEveryKey keeps docs/configuration.md complete: every
// key of the configuration structs (walked by reflection over their yaml
// tags, so a new field cannot be forgotten) is named there, in backquotes,
// by its full path.
func TestReferenceNamesEveryKey(t *testing.T) {
	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	keys := yamlKeys(reflect.TypeFor[Config](), "")
	if len(keys) < 60 {
		t.Fatalf("found only %d keys: the walk missed the nested structs", len(keys))
	}
	for _, k := range keys {
		if !strings.Contains(string(doc), "`"+k+"`") {
			t.Errorf("docs/configuration.md does not name `%s`", k)
		}
	}
}
