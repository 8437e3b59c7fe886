package postgres

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/healthagent/resilience/pkg/config"
	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/internal/text"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// SaveAnswer writes an upstream's answer through to the cache, so that
// Lookup can give it (as nutrition.MatchCached) while the upstream is down. It is
// keyed by the normalised r.Query and r.Source: a later answer for the
// same query and source replaces the earlier one, but an answer older than
// the one stored (by FetchedAt) changes nothing.
//
// r.Query must have a letter or a digit and be at most sr24.MaxNameBytes
// long; r.Query, r.Description and r.ID must be valid UTF-8 without control
// characters; r.Source must be an upstream's name (1 to 32 lower-case letters,
// digits, '_' or '-'; not "sr24", whose data is seeded); r.Description must
// not be empty; known nutrients must be finite and not negative. A zero
// r.FetchedAt means now (WithClock). The other fields are not stored.
func (s *Store) SaveAnswer(ctx context.Context, r nutrition.Result) error {
	key, err := validateAnswer(r)
	if err != nil {
		return err
	}
	n := toColumns(r.Per100g, r.Unknown)
	var id any
	if r.ID != "" {
		id = r.ID
	}
	fetchedAt := r.FetchedAt
	if fetchedAt.IsZero() {
		fetchedAt = s.clock.Now()
	}
	_, err = guarded(ctx, s, "save answer", func(ctx context.Context) (struct{}, error) {
		_, err := s.db.ExecContext(ctx, "INSERT INTO "+s.table("upstream_answers")+` AS u
			(query_norm, source, query, upstream_id, description, `+nutrientColumns+`, fetched_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (query_norm, source) DO UPDATE SET
				query = EXCLUDED.query, upstream_id = EXCLUDED.upstream_id, description = EXCLUDED.description,
				energy_kcal = EXCLUDED.energy_kcal, protein_g = EXCLUDED.protein_g,
				carbohydrate_g = EXCLUDED.carbohydrate_g, fat_g = EXCLUDED.fat_g,
				fiber_g = EXCLUDED.fiber_g, sodium_mg = EXCLUDED.sodium_mg,
				fetched_at = EXCLUDED.fetched_at
			WHERE u.fetched_at <= EXCLUDED.fetched_at`,
			key, string(r.Source), r.Query, id, r.Description, n[0], n[1], n[2], n[3], n[4], n[5], fetchedAt)
		if isUndefinedTable(err) {
			return struct{}{}, fmt.Errorf("%w: %v", ErrNotMigrated, err)
		}
		return struct{}{}, err
	})
	return err
}

// validateAnswer checks an answer to save and returns its key, the
// normalised query.
func validateAnswer(r nutrition.Result) (string, error) {
	bad := func(field string, value any, reason string) error {
		return invalid("answer "+field, value, reason)
	}
	if len(r.Query) > sr24.MaxNameBytes {
		return "", bad("Query", text.Short(r.Query), fmt.Sprintf("longer than %d bytes", sr24.MaxNameBytes))
	}
	key := sr24.Normalize(r.Query)
	if key == "" {
		return "", bad("Query", r.Query, "it has no letter or digit")
	}
	if !r.Source.Valid() {
		return "", bad("Source", string(r.Source), "want 1 to 32 lower-case letters, digits, '_' or '-'")
	}
	if r.Source == nutrition.SourceSR24 {
		return "", bad("Source", string(r.Source), "SR24 data is seeded, not saved as an answer")
	}
	if r.Description == "" {
		return "", bad("Description", r.Description, "an answer needs the food's description")
	}
	for _, f := range []struct{ name, text string }{{"Query", r.Query}, {"Description", r.Description}, {"ID", r.ID}} {
		if err := nutrition.CheckText(f.text); err != nil {
			return "", bad(f.name, text.Short(f.text), err.(*config.Error).Reason)
		}
	}
	for i, v := range r.Per100g.Values() {
		n := sr24.Nutrient(i)
		if r.Unknown.Has(n) {
			continue
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return "", bad("Per100g."+n.String(), v, "want a finite amount, not negative")
		}
	}
	return key, nil
}

// StaleAnswers lists up to limit cached answers of source fetched before
// the time given, oldest first, for a refresher to fetch anew. Each is a
// nutrition.Result as Lookup would give it (nutrition.MatchCached).
func (s *Store) StaleAnswers(ctx context.Context, source nutrition.Source, before time.Time, limit int) ([]nutrition.Result, error) {
	if !source.Valid() {
		return nil, invalid("source", string(source), "want 1 to 32 lower-case letters, digits, '_' or '-'")
	}
	if limit <= 0 {
		return nil, invalid("limit", limit, "want at least 1")
	}
	return guarded(ctx, s, "stale answers", func(ctx context.Context) ([]nutrition.Result, error) {
		rows, err := s.db.QueryxContext(ctx, `SELECT '`+string(nutrition.MatchCached)+`', query, source, upstream_id, description, `+nutrientColumns+`, fetched_at, 1::float8
			FROM `+s.table("upstream_answers")+`
			WHERE source = $1 AND fetched_at < $2
			ORDER BY fetched_at, query_norm
			LIMIT $3`, string(source), before, limit)
		if isUndefinedTable(err) {
			return nil, fmt.Errorf("%w: %v", ErrNotMigrated, err)
		}
		if err != nil {
			return nil, err
		}
		return collectResults(rows)
	})
}

// collectResults scans every row (see scanResult) and closes rows.
func collectResults(rows *sqlx.Rows) ([]nutrition.Result, error) {
	defer rows.Close()
	var out []nutrition.Result
	for rows.Next() {
		r, err := scanResult(rows)
		if err != nil {
			return nil, err
		}
		r.Query = r.Matched
		out = append(out, r)
	}
	return out, rows.Err()
}
