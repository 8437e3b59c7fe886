package postgres

import (
	"errors"

	"github.com/healthagent/resilience/pkg/config"
	"github.com/healthagent/resilience/pkg/nutrition"
)

// ErrNotMigrated is returned when the store's schema has not been set up:
// run Store.Migrate.
var ErrNotMigrated = errors.New("postgres: schema not migrated")

// DBError is a failed database operation: the server could not be reached,
// the context ended, or a statement failed. Op names the operation
// ("lookup", "migrate", "seed", "save answer"…). It unwraps to the driver's
// error, so errors.Is(err, context.DeadlineExceeded) and errors.As(err,
// new(*pq.Error)) see through it.
type DBError struct {
	Op  string
	Err error
}

func (e *DBError) Error() string { return "postgres: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *DBError) Unwrap() error { return e.Err }

// dbError wraps err (not nil) in a *DBError, unless it already is one or is
// a not-found or validation error.
func dbError(op string, err error) error {
	var de *DBError
	var ce *config.Error
	if errors.As(err, &de) || errors.As(err, &ce) || errors.Is(err, nutrition.ErrNotFound) || errors.Is(err, ErrNotMigrated) {
		return err
	}
	return &DBError{Op: op, Err: err}
}
