package config

import (
	"errors"
	"fmt"
)

// FieldError is a problem with one setting of an app: Field names it as the
// file does ("webhooks[1].url"), and the message says what is wrong.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Err.Error() }

func (e *FieldError) Unwrap() error { return e.Err }

// fieldErr is a FieldError with a formatted message.
func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// ErrorField returns the setting an error names, or "".
func ErrorField(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}
