package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"
)

// The JSON form of an app is what the admin API takes and answers and what
// the app store keeps: the field names of the YAML file (apps[] entries),
// durations as Go duration strings ("30s", "1h0m0s"), times in RFC 3339.

var (
	durationType = reflect.TypeFor[time.Duration]()
	timeType     = reflect.TypeFor[time.Time]()
)

// MarshalAppJSON returns the JSON form of a, its fields in the order of the
// App type, leaving out the fields named in omit (say, the secrets).
func MarshalAppJSON(a App, omit ...string) ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, reflect.ValueOf(a), omit); err != nil {
		return nil, fmt.Errorf("app %q as JSON: %w", a.Key, err)
	}
	return b.Bytes(), nil
}

// writeJSON writes v's JSON form; omit applies to v's own fields.
func writeJSON(b *bytes.Buffer, v reflect.Value, omit []string) error {
	switch {
	case v.Type() == durationType:
		return writeValue(b, time.Duration(v.Int()).String())
	case v.Type() == timeType:
		t := v.Interface().(time.Time)
		if t.IsZero() {
			b.WriteString("null")
			return nil
		}
		return writeValue(b, t.UTC().Format(time.RFC3339Nano))
	case v.Kind() == reflect.Struct:
		b.WriteByte('{')
		first := true
		for _, f := range jsonFields(v.Type()) {
			if slices.Contains(omit, f.name) {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			if err := writeValue(b, f.name); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := writeJSON(b, v.FieldByIndex(f.index), nil); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct:
		b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, v.Index(i), nil); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case v.Kind() == reflect.Slice && v.IsNil():
		b.WriteString("[]")
		return nil
	case v.Kind() == reflect.Map && v.IsNil():
		b.WriteString("{}")
		return nil
	}
	return writeValue(b, v.Interface())
}

func writeValue(b *bytes.Buffer, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b.Write(raw)
	return nil
}

// DecodeAppJSON sets the fields of a that the JSON object data names and
// leaves the others as they are (a partial update); null sets a field to
// its zero value (the default). A wrong type, or an unknown field unless
// lenient, is a *FieldError naming the field. lenient reads what a newer
// pushd may have written, with fields this one does not know.
func DecodeAppJSON(data []byte, a *App, lenient bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return &FieldError{Err: fmt.Errorf("invalid JSON: %w", err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &FieldError{Err: errors.New("invalid JSON: data after the object")}
	}
	return decodeObject(raw, reflect.ValueOf(a).Elem(), "", lenient)
}

// decodeObject sets v's fields from the JSON object raw; path names v.
func decodeObject(raw json.RawMessage, v reflect.Value, path string, lenient bool) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		where := strings.TrimSuffix(path, ".")
		if where == "" {
			return &FieldError{Err: errors.New("want a JSON object of app settings")}
		}
		return fieldErr(where, "%s: want a JSON object", where)
	}
	fields := map[string][]int{}
	for _, f := range jsonFields(v.Type()) {
		fields[f.name] = f.index
	}
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names) // the first error is always the same one
	for _, name := range names {
		idx, ok := fields[name]
		if !ok {
			if lenient {
				continue
			}
			return fieldErr(path+name, "%s: unknown field", path+name)
		}
		if err := decodeField(m[name], v.FieldByIndex(idx), path+name, lenient); err != nil {
			return err
		}
	}
	return nil
}

// decodeField sets f from raw; path names f.
func decodeField(raw json.RawMessage, f reflect.Value, path string, lenient bool) error {
	if string(bytes.TrimSpace(raw)) == "null" {
		f.SetZero()
		return nil
	}
	switch {
	case f.Type() == durationType:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fieldErr(path, "%s: want a duration such as \"30s\" or \"1h\", got %s", path, clip(raw))
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return fieldErr(path, "%s: want a duration such as \"30s\" or \"1h\", got %q", path, s)
		}
		f.SetInt(int64(d))
	case f.Type() == timeType:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fieldErr(path, "%s: want an RFC 3339 time, got %s", path, clip(raw))
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fieldErr(path, "%s: want an RFC 3339 time, got %q", path, s)
		}
		f.Set(reflect.ValueOf(t))
	case f.Kind() == reflect.Struct:
		return decodeObject(raw, f, path+".", lenient)
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return fieldErr(path, "%s: want a JSON array, got %s", path, clip(raw))
		}
		s := reflect.MakeSlice(f.Type(), len(items), len(items))
		for i, item := range items {
			if err := decodeObject(item, s.Index(i), fmt.Sprintf("%s[%d].", path, i), lenient); err != nil {
				return err
			}
		}
		f.Set(s)
	default:
		p := reflect.New(f.Type())
		if err := json.Unmarshal(raw, p.Interface()); err != nil {
			return fieldErr(path, "%s: want %s, got %s", path, jsonKind(f.Type()), clip(raw))
		}
		f.Set(p.Elem())
	}
	return nil
}

// jsonKind says in words what JSON a Go type takes.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Slice:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(jsonKind(t.Elem()), "a "), "an ") + "s"
	case reflect.Map:
		return "an object of " + strings.TrimPrefix(jsonKind(t.Elem()), "a ") + "s"
	}
	return t.String()
}

// clip shortens a JSON value for an error message.
func clip(raw json.RawMessage) string {
	s := string(bytes.TrimSpace(raw))
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// jsonField is one setting: its YAML name and where it is in the struct.
type jsonField struct {
	name  string
	index []int
}

// jsonFields lists a struct type's settings by their YAML names, the
// fields of inlined structs in place.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for _, f := range jsonFields(sf.Type) {
				out = append(out, jsonField{f.name, append([]int{i}, f.index...)})
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		out = append(out, jsonField{name, []int{i}})
	}
	return out
}
