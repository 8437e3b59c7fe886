package nutrition

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/healthagent/resilience/pkg/nutrition/internal/text"
)

// Query is a food for the lookup chain to find.
type Query struct {
	// Name is the food's name as a person wrote it or a model gave it:
	// "chicken breast".
	Name string
	// NDB and Description name the SR24 food the name was matched to, if
	// any (see package meal): every source then looks that food up, so they
	// agree on what the name means.
	NDB, Description string
	// Sure: the name was matched with confidence, so an upstream's answer
	// for it may be cached as the food the name means. An uncertain match
	// is never cached.
	Sure bool
	// Strict: only a source that knows the food may answer, no model
	// estimate and no average dish; a food nobody knows is ErrNotFound.
	Strict bool
	// Branded: search branded products too (a name no generic food has).
	Branded bool
}

// Text is what a source looks up: the SR24 description when the name was
// matched, else the name.
func (q Query) Text() string {
	if q.NDB != "" && q.Description != "" {
		return q.Description
	}
	return q.Name
}

// CheckText refuses text no database or upstream should see: invalid
// UTF-8 and control characters (PostgreSQL refuses a NUL). Such input is
// the caller's error, not a failure of the source: a *config.Error.
func CheckText(s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			return invalid("name", text.Short(s), fmt.Sprintf("not valid UTF-8 at byte %d", i))
		}
		if unicode.IsControl(r) {
			return invalid("name", text.Short(s), fmt.Sprintf("control character %U at byte %d", r, i))
		}
	}
	return nil
}
