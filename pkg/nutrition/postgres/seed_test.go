package postgres

import (
	"bytes"
	"compress/gzip"
	"errors"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/healthagent/resilience/internal/testsr24"
	"github.com/healthagent/resilience/pkg/config"
	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// tinyDataset builds a dataset of two foods and one alias, for tests that
// replace the seeded data.
func tinyDataset(t *testing.T, kcal string) *sr24.Dataset {
	t.Helper()
	gz := func(s string) *fstest.MapFile {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		if _, err := w.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return &fstest.MapFile{Data: b.Bytes()}
	}
	data, err := sr24.LoadFS(fstest.MapFS{
		sr24.FoodsFile: gz("ndb,description,energy_kcal,protein_g,carbohydrate_g,fat_g,fiber_g,sodium_mg\n" +
			"01001,\"Butter, salted\"," + kcal + ",0.85,0.06,81.11,,714\n" +
			"09003,\"Apples, raw, with skin\",52,0.26,13.81,0.17,2.4,1\n"),
		sr24.PortionsFile: gz("ndb,description,grams\n09003,1 medium,182\n09003,1 cup sliced,109\n"),
		sr24.AliasesFile:  &fstest.MapFile{Data: []byte("name,ndb\napple,09003\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSeedLoadsEveryFood(t *testing.T) {
	data := testsr24.Dataset(t)
	s, db, _ := seededStore(t, Config{})
	ctx := testContext(t)

	var counts struct {
		Foods    int `db:"foods"`
		Portions int `db:"portions"`
		Aliases  int `db:"aliases"`
	}
	err := db.GetContext(ctx, &counts, "SELECT (SELECT count(*) FROM "+s.table("foods")+") AS foods, (SELECT count(*) FROM "+
		s.table("portions")+") AS portions, (SELECT count(*) FROM "+s.table("aliases")+") AS aliases")
	if err != nil {
		t.Fatal(err)
	}
	wantPortions := 0
	for _, f := range data.Foods() {
		wantPortions += len(f.Portions)
	}
	if counts.Foods != data.Len() || counts.Portions != wantPortions || counts.Aliases != len(data.Aliases()) {
		t.Fatalf("tables hold %+v, want %d foods, %d portions, %d aliases", counts, data.Len(), wantPortions, len(data.Aliases()))
	}

	// Every food reads back as it was, unknown nutrients as NULL.
	rows, err := db.QueryxContext(ctx, "SELECT 'x', description, 'sr24', ndb, description, "+nutrientColumns+", NULL::timestamptz, 1::float8 FROM "+s.table("foods")+" ORDER BY ndb")
	if err != nil {
		t.Fatal(err)
	}
	got, err := collectResults(rows)
	if err != nil {
		t.Fatal(err)
	}
	unknownSeen := 0
	for i, f := range data.Foods() {
		r := got[i]
		if r.ID != f.NDB || r.Description != f.Description || r.Per100g != f.Per100g || r.Unknown != f.Unknown {
			t.Fatalf("food %d reads back as %+v, want %+v", i, r, f)
		}
		if f.Unknown != 0 {
			unknownSeen++
		}
	}
	if unknownSeen == 0 {
		t.Error("no food with an unknown nutrient: the NULL round trip went untested")
	}

	// Portions keep their order.
	for _, f := range data.Foods() {
		if len(f.Portions) < 3 {
			continue
		}
		ps, err := s.Portions(ctx, f.NDB)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ps, f.Portions) {
			t.Errorf("Portions(%s) = %v, want %v", f.NDB, ps, f.Portions)
		}
		break
	}
}

func TestSeedSkipsTheSameVersion(t *testing.T) {
	s, db, clock := seededStore(t, Config{})
	ctx := testContext(t)
	var seededAt time.Time
	if err := db.Get(&seededAt, "SELECT seeded_at FROM "+s.table("seed_state")); err != nil {
		t.Fatal(err)
	}
	if !seededAt.Equal(testStart) {
		t.Errorf("seeded_at = %v, want the store clock's %v", seededAt, testStart)
	}
	clock.Advance(time.Hour)
	rep, err := s.Seed(ctx, testsr24.Dataset(t))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Seeded || rep.Version != DataVersion(testsr24.Dataset(t)) || rep.Foods != testsr24.Dataset(t).Len() {
		t.Errorf("second Seed = %+v, want a skip reporting the stored version and counts", rep)
	}
	var after time.Time
	if err := db.Get(&after, "SELECT seeded_at FROM "+s.table("seed_state")); err != nil {
		t.Fatal(err)
	}
	if !after.Equal(seededAt) {
		t.Errorf("seeded_at moved from %v to %v on a skipped seed", seededAt, after)
	}
}

func TestSeedReplacesAnotherVersionAndKeepsAnswers(t *testing.T) {
	s, db, _ := newStore(t, Config{})
	ctx := testContext(t)
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	v1, v2 := tinyDataset(t, "717"), tinyDataset(t, "720")
	if DataVersion(v1) == DataVersion(v2) {
		t.Fatal("datasets differing in one value have the same DataVersion")
	}
	if DataVersion(v1) != DataVersion(tinyDataset(t, "717")) {
		t.Fatal("DataVersion differs for the same data")
	}
	if _, err := s.Seed(ctx, v1); err != nil {
		t.Fatal(err)
	}
	answer := nutrition.Result{Query: "big mac", Source: nutrition.SourceUSDA, ID: "170720", Description: "McDONALD'S, BIG MAC", Per100g: sr24.Nutrients{EnergyKcal: 257}}
	if err := s.SaveAnswer(ctx, answer); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Seed(ctx, v2)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Seeded || rep.Foods != 2 || rep.Portions != 2 || rep.Aliases != 1 {
		t.Fatalf("Seed of a new version = %+v, want 2 foods, 2 portions, 1 alias loaded", rep)
	}
	r, err := s.Lookup(ctx, "Butter, salted")
	if err != nil || r.Per100g.EnergyKcal != 720 || !r.Unknown.Has(sr24.Fiber) {
		t.Errorf("Lookup after reseeding = %+v, %v; want the new 720 kcal with fiber unknown", r, err)
	}
	if r, err := s.Lookup(ctx, "big mac"); err != nil || r.How != nutrition.MatchCached {
		t.Errorf("cached answer after reseeding = %+v, %v; want it kept", r, err)
	}
	var version string
	if err := db.Get(&version, "SELECT version FROM "+s.table("seed_state")); err != nil || version != DataVersion(v2) {
		t.Errorf("seed_state version = %q, %v; want %q", version, err, DataVersion(v2))
	}
}

func TestSeedNeedsMigrationAndData(t *testing.T) {
	s, _, _ := newStore(t, Config{})
	ctx := testContext(t)
	if _, err := s.Seed(ctx, tinyDataset(t, "717")); !errors.Is(err, ErrNotMigrated) {
		t.Errorf("Seed before Migrate = %v, want ErrNotMigrated", err)
	}
	var ce *config.Error
	if _, err := s.Seed(ctx, nil); !errors.As(err, &ce) {
		t.Errorf("Seed(nil) = %v, want a *config.Error", err)
	}
}
