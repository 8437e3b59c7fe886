package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/healthagent/resilience/internal/testpg"
	"github.com/healthagent/resilience/internal/testsr24"
	"github.com/healthagent/resilience/pkg/config"
	"github.com/healthagent/resilience/pkg/nutrition"
)

func TestEmbeddedMigrations(t *testing.T) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	migs, err := loadMigrations(sub)
	if err != nil {
		t.Fatal(err)
	}
	if len(migs) < 2 {
		t.Fatalf("found %d migrations, want at least 2", len(migs))
	}
	for i, m := range migs {
		if m.version != i+1 {
			t.Errorf("migration %d is %s (version %d): versions must run 1, 2, 3… without gaps", i, m.name, m.version)
		}
	}
	var trigram []string
	for _, m := range migs {
		if m.requires == trigramExtension {
			trigram = append(trigram, m.name)
		}
		if strings.Contains(m.sql, "gin_trgm_ops") || strings.Contains(m.sql, "gist_trgm_ops") {
			if m.requires != trigramExtension {
				t.Errorf("%s uses a pg_trgm operator class but does not say it requires pg_trgm", m.name)
			}
		}
	}
	if len(trigram) == 0 {
		t.Error("no migration requires pg_trgm: where are the trigram indexes?")
	}
}

func TestLoadMigrationsRejectsBadFiles(t *testing.T) {
	ok := &fstest.MapFile{Data: []byte("CREATE TABLE a (id int);\n")}
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"bad name", fstest.MapFS{"1_init.sql": ok}, "want a name like 0001_words.sql"},
		{"upper case", fstest.MapFS{"0001_Init.sql": ok}, "want a name like"},
		{"version zero", fstest.MapFS{"0000_init.sql": ok}, "versions start at 0001"},
		{"duplicate version", fstest.MapFS{"0001_a.sql": ok, "0001_b.sql": ok}, "the same version 1"},
		{"unknown extension", fstest.MapFS{"0001_a.sql": {Data: []byte("-- requires: postgis\nCREATE TABLE a (id int);")}}, `requires "postgis"`},
		{"only comments", fstest.MapFS{"0001_a.sql": {Data: []byte("-- nothing here\n\n-- at all\n")}}, "has no statement"},
		{"empty folder", fstest.MapFS{}, "no migration found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadMigrations(tt.files)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("loadMigrations = %v, want an error containing %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "postgres: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestLoadMigrationsReadsRequiresOnlyFromLeadingComments(t *testing.T) {
	migs, err := loadMigrations(fstest.MapFS{
		"0002_b.sql": {Data: []byte("-- b\n-- requires: pg_trgm\nCREATE INDEX x ON a (id);")},
		"0001_a.sql": {Data: []byte("CREATE TABLE a (id int);\n-- requires: pg_trgm\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(migs) != 2 || migs[0].version != 1 || migs[1].version != 2 {
		t.Fatalf("migrations = %+v, want versions 1 and 2 in order", migs)
	}
	if migs[0].requires != "" || migs[1].requires != trigramExtension {
		t.Errorf("requires = %q, %q; want \"\" (the line follows a statement) and %q", migs[0].requires, migs[1].requires, trigramExtension)
	}
}

// appliedVersions reads the schema_migrations table of a store.
func appliedVersions(t *testing.T, db *sqlx.DB, s *Store) []int {
	t.Helper()
	var v []int
	if err := db.Select(&v, "SELECT version FROM "+s.table("schema_migrations")+" ORDER BY version"); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrateIsIdempotent(t *testing.T) {
	s, db, _ := newStore(t, Config{})
	ctx := testContext(t)
	first, err := s.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first.Similarity != SimilarityTrigram {
		t.Fatalf("Similarity = %s (%s); the test database should allow pg_trgm", first.Similarity, first.SimilarityReason)
	}
	all := appliedVersions(t, db, s)
	if !slices.Equal(first.Applied, all) || len(all) < 2 {
		t.Fatalf("first Migrate applied %v, schema_migrations holds %v", first.Applied, all)
	}
	second, err := s.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Applied) != 0 || len(second.Pending) != 0 {
		t.Errorf("second Migrate = %+v, want nothing applied or pending", second)
	}
	if got := appliedVersions(t, db, s); !slices.Equal(got, all) {
		t.Errorf("schema_migrations changed from %v to %v", all, got)
	}
}

func TestMigrateWaitsForTrigramUntilAllowed(t *testing.T) {
	plain, db, _ := newStore(t, Config{Similarity: SimilarityPlain})
	ctx := testContext(t)
	rep, err := plain.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Similarity != SimilarityPlain || rep.SimilarityReason == "" || len(rep.Pending) == 0 {
		t.Fatalf("plain Migrate = %+v, want the plain mode with a reason and the trigram migration pending", rep)
	}
	if mode, _, err := plain.SimilarityInUse(ctx); err != nil || mode != SimilarityPlain {
		t.Fatalf("SimilarityInUse = %s, %v; want plain", mode, err)
	}

	auto, err := New(db, Config{Schema: plain.Schema()})
	if err != nil {
		t.Fatal(err)
	}
	rep2, err := auto.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Similarity != SimilarityTrigram || !slices.Equal(rep2.Applied, rep.Pending) || len(rep2.Pending) != 0 {
		t.Fatalf("auto Migrate = %+v, want the trigram mode applying %v", rep2, rep.Pending)
	}
	// A third store, on the same schema, reads the mode from the database.
	fresh, err := New(db, Config{Schema: plain.Schema()})
	if err != nil {
		t.Fatal(err)
	}
	if mode, _, err := fresh.SimilarityInUse(ctx); err != nil || mode != SimilarityTrigram {
		t.Errorf("SimilarityInUse on a new store = %s, %v; want trigram as recorded", mode, err)
	}
}

// TestMigrateWithoutExtensionPrivilege runs Migrate as a role that may not
// create extensions, in a database of its own that has no pg_trgm yet.
func TestMigrateWithoutExtensionPrivilege(t *testing.T) {
	admin := testpg.Connect(t)
	ctx := testContext(t)
	role := testpg.UniqueName(t, "role")
	dbName := testpg.UniqueName(t, "db")
	mustExec := func(db *sqlx.DB, q string) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(admin, "CREATE ROLE "+role+" LOGIN")
	t.Cleanup(func() { _, _ = admin.Exec("DROP ROLE IF EXISTS " + role) })
	mustExec(admin, "CREATE DATABASE "+dbName)
	t.Cleanup(func() { _, _ = admin.Exec("DROP DATABASE IF EXISTS " + dbName + " WITH (FORCE)") })

	// The role owns the store's schema but has no CREATE on the database,
	// which trusted extensions such as pg_trgm require.
	ownerDSN, err := testpg.WithUser(testpg.DSN(), "postgres", dbName)
	if err != nil {
		t.Fatal(err)
	}
	owner, err := sqlx.Open("postgres", ownerDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	mustExec(owner, "CREATE SCHEMA nutrition AUTHORIZATION "+role)

	roleDSN, err := testpg.WithUser(testpg.DSN(), role, dbName)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlx.Open("postgres", roleDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	strict, err := New(db, Config{Similarity: SimilarityTrigram})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strict.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "pg_trgm cannot be created") {
		t.Fatalf("Migrate with Similarity trigram = %v, want an error saying pg_trgm cannot be created", err)
	}

	s, err := New(db, Config{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Similarity != SimilarityPlain || !strings.Contains(rep.SimilarityReason, "permission denied") || len(rep.Pending) == 0 {
		t.Fatalf("Migrate = %+v, want the plain mode, a permission error as the reason, the trigram indexes pending", rep)
	}
	if _, err := s.Seed(ctx, testsr24.Dataset(t)); err != nil {
		t.Fatal(err)
	}
	r, err := s.Lookup(ctx, "roasted chicken")
	if err != nil || r.How != nutrition.MatchSimilar || r.ID == "" {
		t.Fatalf("Lookup in plain mode = %+v, %v; want a similar match", r, err)
	}
}

func TestMigrateConcurrentReplicas(t *testing.T) {
	const replicas = 6
	schemaOwner := testpg.Connect(t)
	schema := testpg.NewSchema(t, schemaOwner)
	if _, err := schemaOwner.Exec("DROP SCHEMA " + pq.QuoteIdentifier(schema)); err != nil {
		t.Fatal(err) // Migrate creates it; the cleanup still drops it
	}
	data := testsr24.Dataset(t)
	ctx := testContext(t)

	type outcome struct {
		mig  MigrateReport
		seed SeedReport
		err  error
	}
	outcomes := make([]outcome, replicas)
	stores := make([]*Store, replicas)
	for i := range stores {
		s, err := New(testpg.Connect(t), Config{Schema: schema}) // a pool each
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = s
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			o := &outcomes[i]
			if o.mig, o.err = s.Migrate(ctx); o.err != nil {
				return
			}
			o.seed, o.err = s.Seed(ctx, data)
		}()
	}
	close(start)
	wg.Wait()

	migrated, seeded := 0, 0
	for i, o := range outcomes {
		if o.err != nil {
			t.Errorf("replica %d: %v", i, o.err)
			continue
		}
		if len(o.mig.Applied) > 0 {
			migrated++
		}
		if o.seed.Seeded {
			seeded++
		}
		if o.seed.Foods != data.Len() {
			t.Errorf("replica %d: seed report counts %d foods, want %d", i, o.seed.Foods, data.Len())
		}
	}
	if migrated != 1 || seeded != 1 {
		t.Errorf("%d replicas applied migrations and %d seeded, want exactly 1 each", migrated, seeded)
	}
	var foods int
	if err := schemaOwner.Get(&foods, "SELECT count(*) FROM "+stores[0].table("foods")); err != nil {
		t.Fatal(err)
	}
	if foods != data.Len() {
		t.Errorf("foods holds %d rows, want %d", foods, data.Len())
	}
}

func TestMigrateInCallersTransaction(t *testing.T) {
	s, db, _ := newStore(t, Config{})
	ctx := testContext(t)
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var before string
	if err := tx.Get(&before, "SELECT current_setting('search_path')"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.With(tx).Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var after string
	if err := tx.Get(&after, "SELECT current_setting('search_path')"); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("search_path in the caller's transaction went from %q to %q", before, after)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	_, err = s.Lookup(ctx, "apple")
	if !errors.Is(err, ErrNotMigrated) {
		t.Errorf("Lookup after the rolled-back migration = %v, want ErrNotMigrated", err)
	}
}

func TestNewStoreValidatesConfig(t *testing.T) {
	db := &sqlx.DB{}
	tests := []struct {
		cfg   Config
		field string
	}{
		{Config{Schema: "Nutrition"}, "Schema"},
		{Config{Schema: "1nutrition"}, "Schema"},
		{Config{Schema: `nu"trition`}, "Schema"},
		{Config{Schema: "pg_nutrition"}, "Schema"},
		{Config{Schema: strings.Repeat("a", 64)}, "Schema"},
		{Config{Similarity: "fuzzy"}, "Similarity"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s=%v", tt.field, tt.cfg), func(t *testing.T) {
			_, err := New(db, tt.cfg)
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Field != tt.field {
				t.Fatalf("NewStore = %v, want a *config.Error for %s", err, tt.field)
			}
			if !strings.HasPrefix(err.Error(), "postgres: invalid "+tt.field) {
				t.Errorf("error %q does not name the field", err)
			}
		})
	}
	if _, err := New(nil, Config{}); err == nil {
		t.Error("New(nil) succeeded")
	}
	s, err := New(db, Config{})
	if err != nil || s.Schema() != DefaultSchema {
		t.Errorf("NewStore with the zero Config = %v, schema %q; want the default schema", err, s.Schema())
	}
}

func TestOperationsNeedingATransaction(t *testing.T) {
	// A handle that is neither a pool nor a transaction cannot seed.
	s, db, _ := newStore(t, Config{})
	ctx := context.Background()
	odd, err := New(extOnly{db}, Config{Schema: s.Schema()})
	if err != nil {
		t.Fatal(err)
	}
	var ce *config.Error
	if _, err := odd.Migrate(ctx); !errors.As(err, &ce) {
		t.Errorf("Migrate on a bare ExtContext = %v, want a *config.Error", err)
	}
}

// extOnly hides every method of a *sqlx.DB but those of sqlx.ExtContext.
type extOnly struct{ sqlx.ExtContext }
