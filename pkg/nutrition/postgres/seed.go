package postgres

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// SeedReport says what Seed did.
type SeedReport struct {
	// Seeded is true when this call loaded the data, false when the
	// database already held the same version.
	Seeded bool
	// Version identifies the data (see DataVersion).
	Version string
	// Foods, Portions and Aliases count the rows the database holds.
	Foods, Portions, Aliases int
}

// DataVersion identifies a dataset by its content: the SHA-256 of its
// foods, portions and aliases, shortened, e.g. "sr24-1f0c7a9e5d3b2a41".
// Seed compares it with the version it loaded last.
func DataVersion(data *sr24.Dataset) string {
	return dataVersion(data.Foods(), data.Aliases())
}

func dataVersion(foods []sr24.Food, aliases []sr24.Alias) string {
	h := sha256.New()
	writeDataset(h, foods, aliases)
	return "sr24-" + hex.EncodeToString(h.Sum(nil)[:8])
}

// writeDataset writes a canonical form of the data to h. The first line
// names the layout, so that a change in how Seed stores the data changes
// the version too.
func writeDataset(h hash.Hash, foods []sr24.Food, aliases []sr24.Alias) {
	var b strings.Builder
	b.WriteString("nutrition seed v1\n")
	for _, f := range foods {
		b.Reset()
		fmt.Fprintf(&b, "F\t%s\t%s\t%d", f.NDB, f.Description, f.Unknown)
		for _, v := range f.Per100g.Values() {
			b.WriteByte('\t')
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		}
		b.WriteByte('\n')
		for _, p := range f.Portions {
			fmt.Fprintf(&b, "P\t%s\t%s\n", p.Description, strconv.FormatFloat(p.Grams, 'g', -1, 64))
		}
		h.Write([]byte(b.String()))
	}
	for _, a := range aliases {
		fmt.Fprintf(h, "A\t%s\t%s\n", a.Name, a.NDB)
	}
}

// Seed loads the SR24 foods, their portions and the aliases into the
// store, in one transaction, with COPY. It does nothing when the database
// already holds the same DataVersion, so every replica may call it at
// start-up: it holds the same advisory lock as Migrate, and the first
// replica loads while the others wait and then find the data there. A
// different version replaces the SR24 rows (cached upstream answers stay);
// readers see the old rows until the transaction commits.
//
// Run Migrate first; Seed returns ErrNotMigrated otherwise.
func (s *Store) Seed(ctx context.Context, data *sr24.Dataset) (SeedReport, error) {
	if data == nil {
		return SeedReport{}, invalid("data", nil, "a dataset is required (sr24.Load)")
	}
	foods, aliases := data.Foods(), data.Aliases()
	version := dataVersion(foods, aliases)
	return guarded(ctx, s, "seed", func(ctx context.Context) (SeedReport, error) {
		return inTx(ctx, s.db, func(tx *sqlx.Tx) (SeedReport, error) {
			return s.seedTx(ctx, tx, version, foods, aliases)
		})
	})
}

func (s *Store) seedTx(ctx context.Context, tx *sqlx.Tx, version string, foods []sr24.Food, aliases []sr24.Alias) (SeedReport, error) {
	rep := SeedReport{Version: version}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", lockNamespace, s.cfg.Schema); err != nil {
		return rep, err
	}
	var current struct {
		Version  string `db:"version"`
		Foods    int    `db:"foods"`
		Portions int    `db:"portions"`
		Aliases  int    `db:"aliases"`
	}
	err := tx.GetContext(ctx, &current, "SELECT version, foods, portions, aliases FROM "+s.table("seed_state"))
	switch {
	case isUndefinedTable(err):
		return rep, fmt.Errorf("%w: schema %s has no seed_state table", ErrNotMigrated, s.cfg.Schema)
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return rep, err
	case current.Version == version:
		rep.Foods, rep.Portions, rep.Aliases = current.Foods, current.Portions, current.Aliases
		return rep, nil
	}

	// Portions and aliases go with their foods (ON DELETE CASCADE).
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+s.table("foods")); err != nil {
		return rep, err
	}
	err = s.copyIn(ctx, tx, "foods", []string{"ndb", "description", "description_norm", "energy_kcal", "protein_g", "carbohydrate_g", "fat_g", "fiber_g", "sodium_mg"},
		func(row func(...any) error) error {
			for _, f := range foods {
				n := toColumns(f.Per100g, f.Unknown)
				if err := row(f.NDB, f.Description, sr24.Normalize(f.Description), n[0], n[1], n[2], n[3], n[4], n[5]); err != nil {
					return err
				}
				rep.Foods++
			}
			return nil
		})
	if err != nil {
		return rep, err
	}
	err = s.copyIn(ctx, tx, "portions", []string{"ndb", "seq", "description", "grams"},
		func(row func(...any) error) error {
			for _, f := range foods {
				for i, p := range f.Portions {
					if err := row(f.NDB, i+1, p.Description, p.Grams); err != nil {
						return err
					}
					rep.Portions++
				}
			}
			return nil
		})
	if err != nil {
		return rep, err
	}
	err = s.copyIn(ctx, tx, "aliases", []string{"name", "name_norm", "ndb", "position"},
		func(row func(...any) error) error {
			for i, a := range aliases {
				if err := row(a.Name, sr24.Normalize(a.Name), a.NDB, i+1); err != nil {
					return err
				}
				rep.Aliases++
			}
			return nil
		})
	if err != nil {
		return rep, err
	}
	if err := s.settle(ctx, tx); err != nil {
		return rep, err
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO "+s.table("seed_state")+` (version, foods, portions, aliases, seeded_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version, foods = EXCLUDED.foods,
			portions = EXCLUDED.portions, aliases = EXCLUDED.aliases, seeded_at = EXCLUDED.seeded_at`,
		version, rep.Foods, rep.Portions, rep.Aliases, s.clock.Now())
	if err != nil {
		return rep, err
	}
	rep.Seeded = true
	return rep, nil
}

// settle readies freshly loaded tables for queries: it moves the entries
// COPY left in the pending lists of the GIN indexes into the indexes
// proper (the planner shuns a GIN index with a long pending list, and
// scanning one is slow), and gathers the statistics the planner needs to
// choose the indexes at all, rather than waiting for autovacuum.
func (s *Store) settle(ctx context.Context, tx *sqlx.Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT gin_clean_pending_list(i.indexrelid)
		FROM pg_index i
		JOIN pg_class c ON c.oid = i.indexrelid
		JOIN pg_am am ON am.oid = c.relam
		WHERE am.amname = 'gin' AND i.indrelid IN ($1::regclass, $2::regclass)`,
		s.table("foods"), s.table("aliases"))
	if err != nil {
		return fmt.Errorf("cleaning GIN pending lists: %w", err)
	}
	for _, table := range []string{"foods", "portions", "aliases"} {
		if _, err := tx.ExecContext(ctx, "ANALYZE "+s.table(table)); err != nil {
			return err
		}
	}
	return nil
}

// copyIn streams rows into one of the store's tables with COPY FROM STDIN.
// rows calls row once per row, with the values of columns.
func (s *Store) copyIn(ctx context.Context, tx *sqlx.Tx, table string, columns []string, rows func(row func(...any) error) error) error {
	quoted := make([]string, len(columns))
	for i, c := range columns {
		quoted[i] = pq.QuoteIdentifier(c)
	}
	stmt, err := tx.PrepareContext(ctx, "COPY "+s.table(table)+" ("+strings.Join(quoted, ", ")+") FROM STDIN")
	if err != nil {
		return fmt.Errorf("copy %s: %w", table, err)
	}
	defer stmt.Close()
	err = rows(func(vals ...any) error {
		_, err := stmt.ExecContext(ctx, vals...)
		return err
	})
	if err != nil {
		return fmt.Errorf("copy %s: %w", table, err)
	}
	if _, err := stmt.ExecContext(ctx); err != nil { // flush and finish
		return fmt.Errorf("copy %s: %w", table, err)
	}
	return nil
}
