package postgres

import (
	"github.com/healthagent/resilience/pkg/clock"
	"github.com/healthagent/resilience/pkg/config"
)

// DefaultSchema is the PostgreSQL schema a Store uses when Config.Schema is
// empty.
const DefaultSchema = "nutrition"

// SimilarityMode says how Store.Lookup finds names similar to the one asked
// for, after the exact and normalised matches fail.
type SimilarityMode string

const (
	// SimilarityAuto (the default) uses pg_trgm when the extension is
	// installed or can be created, and plain word matching otherwise.
	SimilarityAuto SimilarityMode = "auto"
	// SimilarityTrigram requires pg_trgm: Migrate fails when the extension
	// cannot be created.
	SimilarityTrigram SimilarityMode = "trigram"
	// SimilarityPlain never uses pg_trgm: names match by the words they
	// share, whole words of the normalised name (a typo matches nothing).
	SimilarityPlain SimilarityMode = "plain"
)

// Config configures a Store. Its zero value works: schema "nutrition",
// pg_trgm when available.
type Config struct {
	// Schema is the PostgreSQL schema holding every table of the store;
	// empty means DefaultSchema. It must be 1 to 63 bytes of lower-case
	// ASCII letters, digits and underscores, starting with a letter or an
	// underscore, and not start with "pg_".
	Schema string
	// Similarity chooses the similarity search; empty means SimilarityAuto.
	Similarity SimilarityMode
}

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	if c.Schema == "" {
		c.Schema = DefaultSchema
	}
	if err := ValidateSchema(c.Schema); err != nil {
		return c, err
	}
	switch c.Similarity {
	case "":
		c.Similarity = SimilarityAuto
	case SimilarityAuto, SimilarityTrigram, SimilarityPlain:
	default:
		return c, invalid("Similarity", string(c.Similarity), `want "auto", "trigram" or "plain"`)
	}
	return c, nil
}

// ValidateSchema checks a schema name for Config.Schema: 1 to 63 bytes of
// lower-case ASCII letters, digits and underscores, not starting with a
// digit or "pg_". The name is quoted wherever it is used, but a plain name
// keeps it readable in psql and out of reach of any quoting mistake.
func ValidateSchema(s string) error {
	bad := func(reason string) error { return invalid("Schema", s, reason) }
	if len(s) > 63 {
		return bad("longer than 63 bytes, PostgreSQL's limit for names")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c == '_':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return bad("want lower-case ASCII letters, digits and underscores, not starting with a digit")
		}
	}
	if len(s) >= 3 && s[:3] == "pg_" {
		return bad(`names starting with "pg_" are reserved for system schemas`)
	}
	return nil
}

// Option gives a Store a collaborator.
type Option func(*options) error

type options struct {
	clock clock.Clock

	given []string // the names of the options given, in order
}

// WithClock sets the clock that stamps saved answers (when
// Result.FetchedAt is zero) and seeds (default clock.Real()).
func WithClock(c clock.Clock) Option {
	return func(o *options) error { return config.Set("postgres", &o.given, "WithClock", &o.clock, c) }
}

// invalid returns the *config.Error of this package for field.
func invalid(field string, value any, reason string) error {
	return &config.Error{Package: "postgres", Field: field, Value: value, Reason: reason}
}
