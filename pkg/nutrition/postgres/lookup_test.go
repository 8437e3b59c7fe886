package postgres

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/testsr24"
	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

func TestLookup(t *testing.T) {
	data := testsr24.Dataset(t)
	chicken, ok := data.Food("05064") // roasted chicken breast, meat only
	if !ok {
		t.Fatal("food 05064 missing from SR24")
	}
	for _, mode := range []SimilarityMode{SimilarityTrigram, SimilarityPlain} {
		t.Run(string(mode), func(t *testing.T) {
			s, _, _ := seededStore(t, Config{Similarity: mode})
			ctx := testContext(t)
			fetched := testStart.Add(-time.Hour)
			err := s.SaveAnswer(ctx, nutrition.Result{Query: "Big Kahuna Burger", Source: nutrition.SourceUSDA, ID: "2345678",
				Description: "BIG KAHUNA, burger", Per100g: sr24.Nutrients{EnergyKcal: 250, ProteinG: 13}, FetchedAt: fetched})
			if err != nil {
				t.Fatal(err)
			}
			// An answer cached for a name SR24 knows does not hide SR24.
			if err := s.SaveAnswer(ctx, nutrition.Result{Query: "chicken breast", Source: nutrition.SourceWeb, Description: "web chicken"}); err != nil {
				t.Fatal(err)
			}

			tests := []struct {
				name, query string
				how         nutrition.MatchKind
				id          string
				matched     string
			}{
				{"exact alias", "chicken breast", nutrition.MatchAlias, "05064", "chicken breast"},
				{"alias normalised", "Chicken Breasts!", nutrition.MatchNormalized, "05064", "chicken breast"},
				{"description normalised", "CHICKEN, broilers or fryers, breast, meat only, cooked, roasted.", nutrition.MatchNormalized, "05064", chicken.Description},
				{"cached answer", "big kahuna burgers", nutrition.MatchCached, "2345678", "Big Kahuna Burger"},
				{"similar by words", "roasted chicken", nutrition.MatchSimilar, "05064", "roasted chicken breast"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r, err := s.Lookup(ctx, tt.query)
					if err != nil {
						t.Fatal(err)
					}
					if r.How != tt.how || r.ID != tt.id || r.Matched != tt.matched || r.Query != tt.query {
						t.Fatalf("Lookup(%q) = how %s, id %s, matched %q, query %q; want %s, %s, %q, the query as given",
							tt.query, r.How, r.ID, r.Matched, r.Query, tt.how, tt.id, tt.matched)
					}
					switch tt.how {
					case nutrition.MatchCached:
						if r.Source != nutrition.SourceUSDA || !r.FetchedAt.Equal(fetched) || r.Per100g.EnergyKcal != 250 || r.Score != 1 {
							t.Errorf("cached result = %+v, want the saved USDA answer fetched at %v", r, fetched)
						}
					case nutrition.MatchSimilar:
						if r.Score < nutrition.MinSimilarScore || r.Score >= 1 {
							t.Errorf("similar score = %v, want in [%v, 1)", r.Score, nutrition.MinSimilarScore)
						}
						fallthrough
					default:
						if r.Source != nutrition.SourceSR24 || r.Description != chicken.Description || r.Per100g != chicken.Per100g || !r.FetchedAt.IsZero() {
							t.Errorf("result = %+v, want SR24's roasted chicken breast", r)
						}
					}
				})
			}

			notFound := []struct{ name, query, reason string }{
				{"empty", "", "no letter or digit"},
				{"punctuation only", "?!…", "no letter or digit"},
				{"too long", strings.Repeat("chicken ", 40), "over the limit"},
				{"too short to compare", "xq", "too short"},
				{"nothing alike", "qqqq zzzz", `"qqqq zzzz": `},
			}
			for _, tt := range notFound {
				t.Run(tt.name, func(t *testing.T) {
					_, err := s.Lookup(ctx, tt.query)
					if !errors.Is(err, nutrition.ErrNotFound) || !strings.Contains(err.Error(), tt.reason) {
						t.Fatalf("Lookup(%q) = %v, want nutrition.ErrNotFound saying %q", tt.query, err, tt.reason)
					}
				})
			}
		})
	}
}

// TestLookupAgreesWithSR24 checks that the database and the in-memory
// dataset, which normalise names with the same function, find the same
// foods: for aliases as written, in other spellings, for descriptions, and
// (with pg_trgm) for misspelt names.
func TestLookupAgreesWithSR24(t *testing.T) {
	data := testsr24.Dataset(t)
	s, _, _ := seededStore(t, Config{Similarity: SimilarityTrigram})
	ctx := testContext(t)

	var names []string
	for i, a := range data.Aliases() {
		names = append(names, a.Name, strings.ToUpper(a.Name)+"S")
		if i%9 == 0 && len(a.Name) > 5 {
			names = append(names, a.Name[:2]+a.Name[3:]) // a letter missing
		}
	}
	for i, f := range data.Foods() {
		if i%40 == 0 {
			names = append(names, strings.ToLower(f.Description))
		}
	}
	compared := 0
	for _, name := range names {
		m, wantErr := data.Lookup(name)
		r, err := s.Lookup(ctx, name)
		if wantErr != nil {
			if !errors.Is(err, nutrition.ErrNotFound) {
				t.Errorf("Lookup(%q) = %+v, %v; sr24 finds nothing (%v)", name, r, err, wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Lookup(%q): %v; sr24 finds %s %q", name, err, m.Food.NDB, m.Matched)
			continue
		}
		if r.ID != m.Food.NDB || string(r.How) != string(m.How) || r.Matched != m.Matched {
			t.Errorf("Lookup(%q) = %s %s %q (%.3f); sr24 finds %s %s %q (%.3f)", name, r.ID, r.How, r.Matched, r.Score, m.Food.NDB, m.How, m.Matched, m.Score)
		}
		if d := r.Score - m.Score; d > 1e-6 || d < -1e-6 {
			t.Errorf("Lookup(%q) scores %v, sr24 %v", name, r.Score, m.Score)
		}
		compared++
	}
	if compared < len(data.Aliases()) {
		t.Errorf("only %d names compared", compared)
	}
}

func TestLookupPlainModeMatchesWholeWords(t *testing.T) {
	s, _, _ := seededStore(t, Config{Similarity: SimilarityPlain})
	ctx := testContext(t)
	r, err := s.Lookup(ctx, "chicken roasted")
	if err != nil || r.How != nutrition.MatchSimilar {
		t.Fatalf("Lookup = %+v, %v; want a similar match", r, err)
	}
	words := strings.Fields(sr24.Normalize(r.Matched))
	for _, w := range []string{"chicken", "roasted"} {
		if !contains(words, w) {
			t.Errorf("match %q lacks the word %q", r.Matched, w)
		}
	}
	// A misspelt word shares no whole word with anything.
	if _, err := s.Lookup(ctx, "chikken"); !errors.Is(err, nutrition.ErrNotFound) {
		t.Errorf("Lookup of a misspelt single word = %v, want nutrition.ErrNotFound in plain mode", err)
	}
}

func contains(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

func TestLookupNotMigrated(t *testing.T) {
	s, _, _ := newStore(t, Config{})
	ctx := testContext(t)
	if _, err := s.Lookup(ctx, "apple"); !errors.Is(err, ErrNotMigrated) {
		t.Errorf("Lookup = %v, want ErrNotMigrated", err)
	}
	if _, err := s.Portions(ctx, "09003"); !errors.Is(err, ErrNotMigrated) {
		t.Errorf("Portions = %v, want ErrNotMigrated", err)
	}
	if _, _, err := s.SimilarityInUse(ctx); !errors.Is(err, ErrNotMigrated) {
		t.Errorf("SimilarityInUse = %v, want ErrNotMigrated", err)
	}
}

func TestPortions(t *testing.T) {
	s, _, _ := seededStore(t, Config{})
	ctx := testContext(t)
	data := testsr24.Dataset(t)
	var without string
	for _, f := range data.Foods() {
		if len(f.Portions) == 0 {
			without = f.NDB
			break
		}
	}
	tests := []struct {
		ndb     string
		want    int
		missing bool
	}{
		{"05064", len(mustFood(t, "05064").Portions), false},
		{without, 0, false},
		{"99999", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.ndb, func(t *testing.T) {
			ps, err := s.Portions(ctx, tt.ndb)
			if tt.missing {
				if !errors.Is(err, nutrition.ErrNotFound) {
					t.Fatalf("Portions = %v, %v; want nutrition.ErrNotFound", ps, err)
				}
				return
			}
			if err != nil || len(ps) != tt.want {
				t.Fatalf("Portions = %v, %v; want %d portions", ps, err, tt.want)
			}
		})
	}
}

func mustFood(t *testing.T, ndb string) sr24.Food {
	t.Helper()
	f, ok := testsr24.Dataset(t).Food(ndb)
	if !ok {
		t.Fatalf("food %s missing", ndb)
	}
	return f
}

func TestStoreCloseKeepsItWorking(t *testing.T) {
	s, _, _ := seededStore(t, Config{})
	ctx := testContext(t)
	if _, err := s.Lookup(ctx, "apple"); err != nil {
		t.Fatal(err)
	}
	if n := len(s.shared.stmts); n == 0 {
		t.Fatal("no statement prepared by a lookup on a pool")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, "apple"); err != nil {
		t.Fatalf("Lookup after Close: %v", err)
	}
	if n := len(s.shared.stmts); n != 0 {
		t.Errorf("%d statements prepared after Close", n)
	}
}
