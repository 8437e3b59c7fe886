package nutrition

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrNotFound: no food matches the name (Store.Lookup), or the upstream
// found nothing for it (USDAClient.Search). It is an answer, not an outage:
// a fallback chain moves on to its next step without counting a failure.
// The error returned wraps it and says why.
var ErrNotFound = errors.New("nutrition: no food matches")

// ErrNotMigrated: the store's schema has not been set up; run Store.Migrate.
var ErrNotMigrated = errors.New("nutrition: schema not migrated")

// DBError is a failed database operation: the server could not be reached,
// the context ended, or a statement failed. Op names the operation
// ("lookup", "migrate", "seed", "save answer"…). It unwraps to the driver's
// error, so errors.Is(err, context.DeadlineExceeded) and errors.As(err,
// new(*pq.Error)) see through it.
type DBError struct {
	Op  string
	Err error
}

func (e *DBError) Error() string { return "nutrition: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *DBError) Unwrap() error { return e.Err }

// dbError wraps err (not nil) in a *DBError, unless it already is one or is
// a not-found or validation error of this package.
func dbError(op string, err error) error {
	var de *DBError
	var ce *ConfigError
	if errors.As(err, &de) || errors.As(err, &ce) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrNotMigrated) {
		return err
	}
	return &DBError{Op: op, Err: err}
}

// ConfigError names the configuration field or argument that is invalid,
// its value, and why.
type ConfigError struct {
	Field  string
	Value  any
	Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("nutrition: invalid %s %#v: %s", e.Field, e.Value, e.Reason)
}

// notFound returns an error wrapping ErrNotFound for name, with the reason.
func notFound(name, reason string) error {
	return fmt.Errorf("%w %q: %s", ErrNotFound, quoteShort(name), reason)
}

// quoteShort shortens a name for an error message.
func quoteShort(name string) string { return cut(name, 64) }

// cut shortens s to at most limit bytes, on a rune boundary, marking the
// cut with "…".
func cut(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	end := limit
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + "…"
}
