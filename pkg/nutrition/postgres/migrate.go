package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// migrationFiles holds the schema, one numbered file per step.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// lockNamespace is the first half of the advisory lock key that Migrate and
// Seed hold ("nutr"); the second half is hashtext(schema), so stores in
// different schemas do not wait for each other.
const lockNamespace = 0x6e757472

// extensionLockKey is the second half of the key of the database-wide lock
// taken before creating the pg_trgm extension, which every schema shares.
const extensionLockKey = 0

// trigramExtension is the only extension a migration may require.
const trigramExtension = "pg_trgm"

// extensionSchema is where Migrate creates pg_trgm when it is missing.
const extensionSchema = "public"

// migration is one numbered schema step.
type migration struct {
	version  int
	name     string // file name, e.g. "0001_tables.sql"
	sql      string
	requires string // an extension the step needs, or ""
}

var (
	migrationName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)
	requiresLine  = regexp.MustCompile(`^--\s*requires:\s*(\S+)\s*$`)
)

// loadMigrations reads the *.sql files at the root of fsys, sorted by
// version. Each is named NNNN_words.sql; a comment line "-- requires:
// pg_trgm" in the leading comments makes it wait for that extension.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	seen := make(map[int]string)
	for _, name := range names {
		m := migrationName.FindStringSubmatch(name)
		if m == nil {
			return nil, fmt.Errorf("postgres: migration %s: want a name like 0001_words.sql", name)
		}
		version, _ := strconv.Atoi(m[1])
		if version == 0 {
			return nil, fmt.Errorf("postgres: migration %s: versions start at 0001", name)
		}
		if other, dup := seen[version]; dup {
			return nil, fmt.Errorf("postgres: migrations %s and %s have the same version %d", other, name, version)
		}
		seen[version] = name
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("postgres: migration %s: %w", name, err)
		}
		mig := migration{version: version, name: name, sql: string(body)}
		for _, line := range strings.Split(mig.sql, "\n") {
			line = strings.TrimSpace(line)
			if line != "" && !strings.HasPrefix(line, "--") {
				break // the leading comments are over
			}
			if r := requiresLine.FindStringSubmatch(line); r != nil {
				if r[1] != trigramExtension {
					return nil, fmt.Errorf("postgres: migration %s requires %q; only %q is known", name, r[1], trigramExtension)
				}
				mig.requires = r[1]
			}
		}
		if strings.TrimSpace(stripComments(mig.sql)) == "" {
			return nil, fmt.Errorf("postgres: migration %s has no statement", name)
		}
		out = append(out, mig)
	}
	if len(out) == 0 {
		return nil, errors.New("postgres: no migration found")
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	return out, nil
}

// stripComments drops "--" comment lines, to tell an empty file.
func stripComments(sql string) string {
	var b strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// MigrateReport says what Migrate did.
type MigrateReport struct {
	// Applied lists the versions of the migrations applied by this call, in
	// order; empty when the schema was up to date.
	Applied []int
	// Pending lists migrations left for later because they need pg_trgm,
	// which is not available.
	Pending []int
	// Similarity is the similarity search in use: SimilarityTrigram or
	// SimilarityPlain.
	Similarity SimilarityMode
	// SimilarityReason says why SimilarityPlain is in use: configured, or
	// the error that creating pg_trgm gave.
	SimilarityReason string
}

// Migrate creates the store's schema and tables, or brings them up to
// date, and records which similarity search is in use. Several replicas may
// run it at once: it holds a PostgreSQL advisory lock (transaction-scoped,
// keyed by the schema) while it reads and applies the migrations, so one
// applies them and the others find them applied. Applied versions are
// recorded in the schema_migrations table.
//
// With Config.Similarity auto or trigram, Migrate creates the pg_trgm
// extension (in schema public) when it is missing. Without the privilege
// to do so, auto falls back to plain word matching and the report says why;
// trigram fails. The trigram indexes wait, as pending migrations, until the
// extension is there.
func (s *Store) Migrate(ctx context.Context) (MigrateReport, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return MigrateReport{}, err
	}
	migs, err := loadMigrations(sub)
	if err != nil {
		return MigrateReport{}, err
	}
	return s.migrate(ctx, migs)
}

// migrate applies migs, as Migrate describes.
func (s *Store) migrate(ctx context.Context, migs []migration) (MigrateReport, error) {
	rep, err := guarded(ctx, s, "migrate", func(ctx context.Context) (migrateResult, error) {
		return inTx(ctx, s.db, func(tx *sqlx.Tx) (migrateResult, error) {
			return s.migrateTx(ctx, tx, migs)
		})
	})
	if err != nil {
		return MigrateReport{}, err
	}
	sim, err := s.newSimilarity(rep.Similarity, rep.extSchema, rep.SimilarityReason)
	if err != nil {
		return MigrateReport{}, err
	}
	s.shared.sim.Store(sim)
	return rep.MigrateReport, nil
}

// migrateResult is a MigrateReport and where pg_trgm lives.
type migrateResult struct {
	MigrateReport
	extSchema string
}

func (s *Store) migrateTx(ctx context.Context, tx *sqlx.Tx, migs []migration) (migrateResult, error) {
	var res migrateResult
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", lockNamespace, s.cfg.Schema); err != nil {
		return res, err
	}
	var exists bool
	if err := tx.GetContext(ctx, &exists, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", s.cfg.Schema); err != nil {
		return res, err
	}
	if !exists {
		if _, err := tx.ExecContext(ctx, "CREATE SCHEMA "+s.schema); err != nil {
			return res, err
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+s.table("schema_migrations")+` (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return res, err
	}
	var applied []int
	if err := tx.SelectContext(ctx, &applied, "SELECT version FROM "+s.table("schema_migrations")); err != nil {
		return res, err
	}

	mode, extSchema, reason, err := s.chooseSimilarity(ctx, tx)
	if err != nil {
		return res, err
	}
	res.Similarity, res.extSchema, res.SimilarityReason = mode, extSchema, reason

	// Migrations see the store's schema (and pg_trgm's) alone; the
	// caller's search_path comes back afterwards, for a caller's own
	// transaction.
	var oldPath string
	if err := tx.GetContext(ctx, &oldPath, "SELECT current_setting('search_path')"); err != nil {
		return res, err
	}
	searchPath := s.schema
	if extSchema != "" {
		searchPath += ", " + pq.QuoteIdentifier(extSchema)
	}
	if _, err := tx.ExecContext(ctx, "SELECT set_config('search_path', $1, true)", searchPath); err != nil {
		return res, err
	}
	for _, m := range migs {
		if slices.Contains(applied, m.version) {
			continue
		}
		if m.requires == trigramExtension && mode != SimilarityTrigram {
			res.Pending = append(res.Pending, m.version)
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return res, fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+s.table("schema_migrations")+" (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
			return res, err
		}
		res.Applied = append(res.Applied, m.version)
	}
	if _, err := tx.ExecContext(ctx, "SELECT set_config('search_path', $1, true)", oldPath); err != nil {
		return res, err
	}

	settings := map[string]string{
		"similarity":        string(mode),
		"similarity_reason": reason,
		"trigram_schema":    extSchema,
	}
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+s.table("settings")+` (key, value) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, k, settings[k]); err != nil {
			return res, err
		}
	}
	return res, nil
}

// chooseSimilarity decides the similarity search, creating pg_trgm when it
// is missing and allowed. It returns the mode, the schema holding pg_trgm
// (for the trigram mode) and, for the plain mode, why.
func (s *Store) chooseSimilarity(ctx context.Context, tx *sqlx.Tx) (mode SimilarityMode, extSchema, reason string, err error) {
	if s.cfg.Similarity == SimilarityPlain {
		return SimilarityPlain, "", "configured (Config.Similarity is plain)", nil
	}
	extSchema, err = trigramSchema(ctx, tx)
	if err != nil {
		return "", "", "", err
	}
	if extSchema == "" {
		// Every schema's migration may try to create the extension: one
		// at a time, and look again once it is our turn.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1, $2)", lockNamespace, extensionLockKey); err != nil {
			return "", "", "", err
		}
		if extSchema, err = trigramSchema(ctx, tx); err != nil {
			return "", "", "", err
		}
	}
	if extSchema == "" {
		// A failed CREATE EXTENSION would abort the transaction: try it
		// under a savepoint.
		if _, err := tx.ExecContext(ctx, "SAVEPOINT nutrition_pg_trgm"); err != nil {
			return "", "", "", err
		}
		_, createErr := tx.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA "+pq.QuoteIdentifier(extensionSchema))
		if createErr != nil {
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT nutrition_pg_trgm"); err != nil {
				return "", "", "", err
			}
			if ctx.Err() != nil {
				return "", "", "", createErr
			}
			if s.cfg.Similarity == SimilarityTrigram {
				return "", "", "", fmt.Errorf("similarity mode trigram is configured but pg_trgm cannot be created: %w", createErr)
			}
			return SimilarityPlain, "", "pg_trgm unavailable: " + createErr.Error(), nil
		}
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT nutrition_pg_trgm"); err != nil {
			return "", "", "", err
		}
		if extSchema, err = trigramSchema(ctx, tx); err != nil {
			return "", "", "", err
		}
		if extSchema == "" {
			return "", "", "", errors.New("pg_trgm was created but is not listed in pg_extension")
		}
	}
	return SimilarityTrigram, extSchema, "", nil
}

// trigramSchema returns the schema holding pg_trgm, or "" when the
// extension is not installed in the database.
func trigramSchema(ctx context.Context, q sqlx.QueryerContext) (string, error) {
	var schemas []string
	err := sqlx.SelectContext(ctx, q, &schemas, `SELECT n.nspname FROM pg_extension e
		JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1`, trigramExtension)
	if err != nil || len(schemas) == 0 {
		return "", err
	}
	return schemas[0], nil
}

// similarityInUse returns the similarity search in use, reading it from the
// settings table the first time (ErrNotMigrated when there is none).
func (s *Store) similarityInUse(ctx context.Context) (*similarity, error) {
	if sim := s.shared.sim.Load(); sim != nil {
		return sim, nil
	}
	var rows []struct {
		Key   string `db:"key"`
		Value string `db:"value"`
	}
	err := sqlx.SelectContext(ctx, s.db, &rows, "SELECT key, value FROM "+s.table("settings")+" WHERE key IN ('similarity', 'similarity_reason', 'trigram_schema')")
	if isUndefinedTable(err) {
		return nil, fmt.Errorf("%w: schema %s has no settings table", ErrNotMigrated, s.cfg.Schema)
	}
	if err != nil {
		return nil, err
	}
	settings := make(map[string]string, len(rows))
	for _, r := range rows {
		settings[r.Key] = r.Value
	}
	mode, ok := settings["similarity"]
	if !ok {
		return nil, fmt.Errorf("%w: schema %s records no similarity mode", ErrNotMigrated, s.cfg.Schema)
	}
	sim, err := s.newSimilarity(SimilarityMode(mode), settings["trigram_schema"], settings["similarity_reason"])
	if err != nil {
		return nil, err
	}
	s.shared.sim.CompareAndSwap(nil, sim)
	return s.shared.sim.Load(), nil
}

// SimilarityInUse returns the similarity search Lookup uses, trigram or
// plain, and for plain why (see MigrateReport).
func (s *Store) SimilarityInUse(ctx context.Context) (mode SimilarityMode, reason string, err error) {
	sim, err := guarded(ctx, s, "similarity", s.similarityInUse)
	if err != nil {
		return "", "", err
	}
	return sim.mode, sim.reason, nil
}
