package nutrition

import (
	"time"

	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// Source says where a nutrition answer came from.
type Source string

// The sources this package knows. Other upstreams may use names of their
// own for cached answers: 1 to 32 lower-case letters, digits, '_' or '-'.
const (
	// SourceSR24: the USDA SR24 data seeded into the database.
	SourceSR24 Source = "sr24"
	// SourceUSDA: USDA FoodData Central.
	SourceUSDA Source = "usda"
	// SourceWeb: a web nutrition search.
	SourceWeb Source = "web"
)

// Valid reports whether s can name the source of a cached answer: 1 to 32
// lower-case letters, digits, '_' or '-'. The database checks the same
// rule.
func (s Source) Valid() bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// MatchKind says how the cache (postgres.Store.Lookup) found a name.
type MatchKind string

// The ways a name can match, in the order the cache tries them.
const (
	// MatchAlias: the name is exactly one of the curated aliases.
	MatchAlias MatchKind = "alias"
	// MatchNormalized: the name, normalised with sr24.Normalize, equals the
	// normalised form of an alias or of a food's USDA description.
	MatchNormalized MatchKind = "normalized"
	// MatchCached: an upstream answered this name (normalised) before, and
	// its answer was saved in the cache.
	MatchCached MatchKind = "cached"
	// MatchSimilar: the name is similar to an alias or a description.
	MatchSimilar MatchKind = "similar"
)

// Result is the nutrition of one food, from the database or an upstream.
type Result struct {
	// Query is the name that was looked up, as given.
	Query string
	// Source says where the nutrients come from: SourceSR24 for the seeded
	// data, or the upstream that first gave a cached answer.
	Source Source
	// ID is the food's id at its source: the NDB number ("05064") for
	// SR24, the FDC id ("171477") for USDA; empty when the source has none.
	ID string
	// Description is the source's description of the food, e.g. "Chicken,
	// broilers or fryers, breast, meat only, cooked, roasted".
	Description string
	// DataType is FoodData Central's data type of a USDA answer
	// ("Foundation", "SR Legacy", "Survey (FNDDS)", "Branded"); empty
	// otherwise.
	DataType string
	// NDB is the food's SR number when the source gives one: an SR24 food's
	// own, or the ndbNumber of a Foundation or SR Legacy food; empty
	// otherwise.
	NDB string
	// Per100g holds the nutrients in 100 g of the food.
	Per100g sr24.Nutrients
	// Unknown lists the nutrients the source does not give; their value in
	// Per100g is 0.
	Unknown sr24.NutrientSet

	// How says how the cache matched the name; empty for answers straight
	// from an upstream.
	How MatchKind
	// Score is 1 for alias, normalised and cached matches, and the
	// similarity score, from MinSimilarScore to 1, for similar ones.
	Score float64
	// Matched is the alias, description or cached query the name matched.
	Matched string

	// FetchedAt is when the answer was fetched from its upstream; zero for
	// SR24 data.
	FetchedAt time.Time
}

// MinSimilarScore is the lowest similarity score the cache accepts for a
// similar match, the same as sr24.Lookup's.
const MinSimilarScore = sr24.MinLookupScore
