package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// nutrientColumns are the nutrient columns of foods and upstream_answers,
// in the order of the fields of sr24.Nutrients.
const nutrientColumns = "energy_kcal, protein_g, carbohydrate_g, fat_g, fiber_g, sodium_mg"

// Lookup finds the nutrition of the food a name stands for. It tries, in
// order, and returns the first match:
//
//  1. an alias spelled exactly like name (nutrition.MatchAlias);
//  2. an alias, else a USDA description, equal to name once both are
//     normalised with sr24.Normalize (nutrition.MatchNormalized; ties go to the
//     first alias of the curated list, then to the lower NDB number);
//  3. an upstream answer saved for the same normalised name (nutrition.MatchCached;
//     the freshest one);
//  4. the alias or description most similar to the name, if it scores at
//     least nutrition.MinSimilarScore (nutrition.MatchSimilar).
//
// An alias hit takes one query, steps 2 and 3 one more. A cached answer comes after the SR24
// matches, which are curated, and before a similar food, which may be
// another food altogether.
//
// The similarity score is sr24.Lookup's: with Q the set of trigrams of the
// normalised name and T that of a candidate, the mean of |Q∩T| / |Q∪T| and
// |Q∩T| / |Q|. With pg_trgm in use (see SimilarityInUse) the trigrams are
// pg_trgm's, and the candidates are the 20 aliases and the 20 descriptions
// nearest to the name by similarity() and by word_similarity() each, found
// with the GiST trigram indexes. Without pg_trgm, the same formula counts
// whole words instead of trigrams, and the candidates are those sharing a
// word with the name: a misspelt name finds nothing. Ties go to aliases,
// then to the shorter text, then to the lower NDB number.
//
// When nothing matches, or the name is empty, has no letter or digit, or
// is longer than sr24.MaxNameBytes, the error wraps nutrition.ErrNotFound. A name
// with a control character or invalid UTF-8 is a *config.Error, and never
// reaches the database. Database failures are *DBError; ErrNotMigrated
// when the schema is missing.
func (s *Store) Lookup(ctx context.Context, name string) (nutrition.Result, error) {
	if len(name) > sr24.MaxNameBytes {
		return nutrition.Result{}, nutrition.NotFound(name, fmt.Sprintf("the name is %d bytes long, over the limit of %d", len(name), sr24.MaxNameBytes))
	}
	if err := nutrition.CheckText(name); err != nil {
		return nutrition.Result{}, err
	}
	key := sr24.Normalize(name)
	if key == "" {
		return nutrition.Result{}, nutrition.NotFound(name, "it has no letter or digit")
	}
	return guarded(ctx, s, "lookup", func(ctx context.Context) (nutrition.Result, error) {
		r, found, err := s.lookupDirect(ctx, name, key)
		if err != nil || found {
			return r, err
		}
		if !longEnoughForSimilarity(key) {
			return nutrition.Result{}, nutrition.NotFound(name, "too short to search by similarity")
		}
		sim, err := s.similarityInUse(ctx)
		if err != nil {
			return nutrition.Result{}, err
		}
		return s.lookupSimilar(ctx, sim, name, key)
	})
}

// lookupDirect runs steps 1 to 3 of Lookup: the exact alias first, alone,
// for it is the most frequent hit and the cheapest query; then the
// normalised and cached matches together.
func (s *Store) lookupDirect(ctx context.Context, name, key string) (nutrition.Result, bool, error) {
	r, err := scanResult(s.queryRow(ctx, s.queries.alias, name))
	if errors.Is(err, sql.ErrNoRows) {
		r, err = scanResult(s.queryRow(ctx, s.queries.normalized, key))
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nutrition.Result{}, false, nil
	}
	if isUndefinedTable(err) {
		return nutrition.Result{}, false, fmt.Errorf("%w: %v", ErrNotMigrated, err)
	}
	if err != nil {
		return nutrition.Result{}, false, err
	}
	r.Query = name
	return r, true, nil
}

// lookupQueries are the SQL statements of Lookup's first steps. Their
// columns are those scanResult reads.
type lookupQueries struct {
	alias      string // step 1; $1 is the name
	normalized string // steps 2 and 3; $1 is the normalised name
}

// newLookupQueries builds the statements for the store's schema.
func (s *Store) newLookupQueries() lookupQueries {
	food := func(prio int, kind nutrition.MatchKind, matched string) string {
		return fmt.Sprintf("%d AS prio, '%s' AS kind, %s AS matched, 'sr24' AS source, f.ndb AS id, f.description, %s, NULL::timestamptz AS fetched_at, 1::float8 AS score",
			prio, kind, matched, prefixed("f", nutrientColumns))
	}
	columns := "kind, matched, source, id, description, " + nutrientColumns + ", fetched_at, score"
	return lookupQueries{
		alias: `SELECT ` + columns + ` FROM (SELECT ` + food(1, nutrition.MatchAlias, "a.name") + `
	FROM ` + s.table("aliases") + ` a JOIN ` + s.table("foods") + ` f ON f.ndb = a.ndb
	WHERE a.name = $1) m`,
		normalized: `SELECT ` + columns + ` FROM (
	(SELECT ` + food(2, nutrition.MatchNormalized, "a.name") + `
		FROM ` + s.table("aliases") + ` a JOIN ` + s.table("foods") + ` f ON f.ndb = a.ndb
		WHERE a.name_norm = $1 ORDER BY a.position LIMIT 1)
	UNION ALL
	(SELECT ` + food(3, nutrition.MatchNormalized, "f.description") + `
		FROM ` + s.table("foods") + ` f
		WHERE f.description_norm = $1 ORDER BY f.ndb LIMIT 1)
	UNION ALL
	(SELECT 4, '` + string(nutrition.MatchCached) + `', u.query, u.source, u.upstream_id, u.description, ` + prefixed("u", nutrientColumns) + `, u.fetched_at, 1::float8
		FROM ` + s.table("upstream_answers") + ` u
		WHERE u.query_norm = $1 ORDER BY u.fetched_at DESC, u.source LIMIT 1)
) m ORDER BY prio LIMIT 1`,
	}
}

// prefixed qualifies each column of a comma-separated list with alias.
func prefixed(alias, columns string) string {
	parts := strings.Split(columns, ", ")
	for i, p := range parts {
		parts[i] = alias + "." + p
	}
	return strings.Join(parts, ", ")
}

// rowScanner is *sql.Row, *sqlx.Row or *sqlx.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// scanResult reads one row of columns kind, matched, source, id,
// description, the six nutrients, fetched_at, score.
func scanResult(row rowScanner) (nutrition.Result, error) {
	var (
		r         nutrition.Result
		kind      string
		source    string
		id        sql.NullString
		nutrients [6]sql.NullFloat64
		fetchedAt sql.NullTime
	)
	err := row.Scan(&kind, &r.Matched, &source, &id, &r.Description,
		&nutrients[0], &nutrients[1], &nutrients[2], &nutrients[3], &nutrients[4], &nutrients[5],
		&fetchedAt, &r.Score)
	if err != nil {
		return nutrition.Result{}, err
	}
	r.How, r.Source, r.ID = nutrition.MatchKind(kind), nutrition.Source(source), id.String
	r.Per100g, r.Unknown = fromColumns(nutrients)
	if fetchedAt.Valid {
		r.FetchedAt = fetchedAt.Time.UTC()
	}
	return r, nil
}

// fromColumns turns nullable nutrient columns into nutrients and the set
// of those unknown.
func fromColumns(c [6]sql.NullFloat64) (sr24.Nutrients, sr24.NutrientSet) {
	var unknown sr24.NutrientSet
	val := func(i int) float64 {
		if !c[i].Valid {
			unknown = unknown.With(sr24.Nutrient(i))
			return 0
		}
		return c[i].Float64
	}
	n := sr24.Nutrients{EnergyKcal: val(0), ProteinG: val(1), CarbohydrateG: val(2), FatG: val(3), FiberG: val(4), SodiumMg: val(5)}
	return n, unknown
}

// toColumns turns nutrients into column values, nil for those unknown.
func toColumns(n sr24.Nutrients, unknown sr24.NutrientSet) [6]any {
	vals := [6]float64{n.EnergyKcal, n.ProteinG, n.CarbohydrateG, n.FatG, n.FiberG, n.SodiumMg}
	var out [6]any
	for i, v := range vals {
		if !unknown.Has(sr24.Nutrient(i)) {
			out[i] = v
		}
	}
	return out
}

// longEnoughForSimilarity reports whether a normalised name has enough
// trigrams (at least four, counting each word's padded ones) to be
// compared by similarity, as sr24.Lookup requires: a name of one or two
// letters would otherwise match every description holding such a word.
func longEnoughForSimilarity(key string) bool {
	n := 0
	for _, w := range strings.Fields(key) {
		n += len([]rune(w)) + 1
	}
	return n >= 4
}

// similarity is the similar-name search in use.
type similarity struct {
	mode      SimilarityMode // SimilarityTrigram or SimilarityPlain
	extSchema string         // pg_trgm's schema, for SimilarityTrigram
	reason    string         // why SimilarityPlain
	query     string         // the SQL of the search
}

// similarCandidates is how many of the nearest aliases and descriptions,
// by each of pg_trgm's two distances, the trigram search scores.
const similarCandidates = 20

// newSimilarity builds the similar-name query for a mode. Both modes list
// candidates (is_alias, matched, ndb, norm) and score them with the same
// formula, on trigrams or on words.
func (s *Store) newSimilarity(mode SimilarityMode, extSchema, reason string) (*similarity, error) {
	sim := &similarity{mode: mode, extSchema: extSchema, reason: reason}
	var candidates, shared, nq, nt string
	switch mode {
	case SimilarityTrigram:
		if extSchema == "" {
			return nil, fmt.Errorf("%w: schema %s records the trigram mode without pg_trgm's schema", ErrNotMigrated, s.cfg.Schema)
		}
		ext := pq.QuoteIdentifier(extSchema)
		// The nearest by similarity() and by word_similarity(), from the
		// GiST indexes; $1 is the normalised name.
		nearest := func(table, isAlias, matched, col string) string {
			return fmt.Sprintf(`(SELECT %[2]s AS is_alias, %[3]s AS matched, ndb, %[4]s AS norm FROM %[1]s ORDER BY %[4]s OPERATOR(%[5]s.<->) $1 LIMIT %[6]d)
	UNION
	(SELECT %[2]s, %[3]s, ndb, %[4]s FROM %[1]s ORDER BY $1 OPERATOR(%[5]s.<<->) %[4]s LIMIT %[6]d)`,
				s.table(table), isAlias, matched, col, ext, similarCandidates)
		}
		candidates = nearest("aliases", "true", "name", "name_norm") + "\n\tUNION\n\t" + nearest("foods", "false", "description", "description_norm")
		shared = fmt.Sprintf("cardinality(ARRAY(SELECT unnest(%[1]s.show_trgm($1)) INTERSECT SELECT unnest(%[1]s.show_trgm(c.norm))))", ext)
		nq = fmt.Sprintf("cardinality(%s.show_trgm($1))", ext)
		nt = fmt.Sprintf("cardinality(%s.show_trgm(c.norm))", ext)
	case SimilarityPlain:
		// Those sharing a word with the name, from the GIN indexes on the
		// word arrays; $1 is the distinct words of the normalised name.
		candidates = `SELECT true AS is_alias, name AS matched, ndb, name_norm AS norm FROM ` + s.table("aliases") + ` WHERE name_words && $1::text[]
	UNION ALL
	SELECT false, description, ndb, description_norm FROM ` + s.table("foods") + ` WHERE description_words && $1::text[]`
		shared = "cardinality(ARRAY(SELECT unnest(string_to_array(c.norm, ' ')) INTERSECT SELECT unnest($1::text[])))"
		nq = "cardinality($1::text[])"
		nt = "cardinality(ARRAY(SELECT DISTINCT unnest(string_to_array(c.norm, ' '))))"
	default:
		return nil, fmt.Errorf("%w: schema %s records an unknown similarity mode %q", ErrNotMigrated, s.cfg.Schema, mode)
	}
	sim.query = `WITH c AS (
	` + candidates + `
)
SELECT '` + string(nutrition.MatchSimilar) + `', c.matched, 'sr24', f.ndb, f.description, ` + prefixed("f", nutrientColumns) + `, NULL::timestamptz, x.score
FROM c
CROSS JOIN LATERAL (SELECT CASE WHEN n = 0 THEN 0 ELSE (n / (q + t - n) + n / q) / 2 END AS score
	FROM (SELECT ` + shared + `::float8 AS n, ` + nq + `::float8 AS q, ` + nt + `::float8 AS t) k) x
JOIN ` + s.table("foods") + ` f ON f.ndb = c.ndb
ORDER BY x.score DESC, c.is_alias DESC, octet_length(c.norm), c.ndb
LIMIT 1`
	return sim, nil
}

// lookupSimilar runs step 4 of Lookup.
func (s *Store) lookupSimilar(ctx context.Context, sim *similarity, name, key string) (nutrition.Result, error) {
	var row *sqlx.Row
	if sim.mode == SimilarityTrigram {
		row = s.queryRow(ctx, sim.query, key)
	} else {
		words := slices.Compact(slices.Sorted(slices.Values(strings.Fields(key))))
		row = s.queryRow(ctx, sim.query, pq.Array(words))
	}
	r, err := scanResult(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nutrition.Result{}, nutrition.NotFound(name, "no alias or description is similar to it")
	}
	if isUndefinedTable(err) {
		return nutrition.Result{}, fmt.Errorf("%w: %v", ErrNotMigrated, err)
	}
	if err != nil {
		return nutrition.Result{}, err
	}
	if r.Score < nutrition.MinSimilarScore {
		return nutrition.Result{}, nutrition.NotFound(name, fmt.Sprintf("the closest, %q, scores %.2f, below %.2f", r.Matched, r.Score, nutrition.MinSimilarScore))
	}
	r.Query = name
	return r, nil
}

// Portions returns the household measures of an SR24 food (by NDB number,
// as in nutrition.Result.ID for nutrition.SourceSR24), in the order of the source; none for a
// food without any. The error wraps nutrition.ErrNotFound when no food has that
// number.
func (s *Store) Portions(ctx context.Context, ndb string) ([]sr24.Portion, error) {
	return guarded(ctx, s, "portions", func(ctx context.Context) ([]sr24.Portion, error) {
		var rows []struct {
			Description string  `db:"description"`
			Grams       float64 `db:"grams"`
		}
		err := sqlx.SelectContext(ctx, s.db, &rows, "SELECT description, grams FROM "+s.table("portions")+" WHERE ndb = $1 ORDER BY seq", ndb)
		if isUndefinedTable(err) {
			return nil, fmt.Errorf("%w: %v", ErrNotMigrated, err)
		}
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			var exists bool
			if err := sqlx.GetContext(ctx, s.db, &exists, "SELECT EXISTS (SELECT 1 FROM "+s.table("foods")+" WHERE ndb = $1)", ndb); err != nil {
				return nil, err
			}
			if !exists {
				return nil, nutrition.NotFound(ndb, "no SR24 food has this NDB number")
			}
		}
		out := make([]sr24.Portion, 0, len(rows))
		for _, r := range rows {
			out = append(out, sr24.Portion{Description: r.Description, Grams: r.Grams})
		}
		return out, nil
	})
}
