package nutrition

import (
	"errors"
	"fmt"

	"github.com/healthagent/resilience/pkg/config"
	"github.com/healthagent/resilience/pkg/nutrition/internal/text"
)

// ErrNotFound is returned when no food matches the name: the cache has
// none (postgres.Store.Lookup), or the upstream found nothing for it
// (usda.Client.Search). It is an answer, not an outage: a fallback chain
// moves on to its next step without counting a failure. The error
// returned wraps it and says why (see NotFound).
var ErrNotFound = errors.New("nutrition: no food matches")

// NotFound returns an error wrapping ErrNotFound for name, with the reason.
func NotFound(name, reason string) error {
	return fmt.Errorf("%w %q: %s", ErrNotFound, text.Short(name), reason)
}

// invalid returns the *config.Error of this package for field.
func invalid(field string, value any, reason string) error {
	return &config.Error{Package: "nutrition", Field: field, Value: value, Reason: reason}
}
