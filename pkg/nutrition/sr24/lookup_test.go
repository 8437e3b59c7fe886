package sr24

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestLookup(t *testing.T) {
	d := loadData(t)
	tests := []struct {
		name    string
		how     MatchKind
		ndb     string
		matched string
	}{
		// exact aliases
		{"chicken breast", MatchAlias, "05064", "chicken breast"},
		{"porridge", MatchAlias, "08121", "porridge"},
		{"2% milk", MatchAlias, "01079", "2% milk"},
		// normalised: case, plurals, punctuation, spaces; aliases first
		{"Chicken Breasts", MatchNormalized, "05064", "chicken breast"},
		{"  chicken   breast. ", MatchNormalized, "05064", "chicken breast"},
		{"eggs", MatchNormalized, "01129", "egg"},
		{"Eggs,", MatchNormalized, "01129", "egg"},
		{"Tomatoes", MatchNormalized, "11529", "tomato"},
		{"BLUEBERRIES", MatchNormalized, "09050", "blueberry"},
		{"Hummus!", MatchNormalized, "16158", "hummus"},
		{"Jalapeño", MatchNormalized, "11979", "jalapeno"},
		// normalised USDA descriptions
		{"bananas, raw", MatchNormalized, "09040", "Bananas, raw"},
		{"BANANA RAW", MatchNormalized, "09040", "Bananas, raw"},
		{"Egg, whole, raw, fresh", MatchNormalized, "01123", "Egg, whole, raw, fresh"},
		// similar: typos, extra words, word order
		{"chiken brest", MatchSimilar, "05064", "chicken breast"},
		{"brocoli", MatchSimilar, "11090", "broccoli"},
		{"150 g chicken breast", MatchSimilar, "05064", "chicken breast"},
		{"raw bananas", MatchSimilar, "09040", "Bananas, raw"},
		{"scrambled eggs with cheese", MatchSimilar, "01132", "scrambled egg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := d.Lookup(tt.name)
			if err != nil {
				t.Fatalf("Lookup(%q): %v", tt.name, err)
			}
			if m.How != tt.how || m.Food.NDB != tt.ndb {
				t.Errorf("Lookup(%q) = %s %s %q, want %s %s", tt.name, m.How, m.Food.NDB, m.Matched, tt.how, tt.ndb)
			}
			if tt.matched != "" && m.Matched != tt.matched {
				t.Errorf("Lookup(%q) matched %q, want %q", tt.name, m.Matched, tt.matched)
			}
			if tt.how == MatchSimilar {
				if m.Score < MinLookupScore || m.Score > 1 {
					t.Errorf("score %v outside [%v, 1]", m.Score, MinLookupScore)
				}
			} else if m.Score != 1 {
				t.Errorf("score %v, want 1 for an %s match", m.Score, m.How)
			}
			if f, _ := d.Food(m.Food.NDB); f.Description != m.Food.Description {
				t.Errorf("matched food %+v differs from Food(%s)", m.Food, m.Food.NDB)
			}
		})
	}
}

func TestLookupNotFound(t *testing.T) {
	d := loadData(t)
	tests := []struct {
		name, want string
	}{
		{"", "has no letter or digit"},
		{"   ", "has no letter or digit"},
		{"?!…", "has no letter or digit"},
		{"\x00\x01\x02", "has no letter or digit"},
		{"a", "too short to search by similarity"},
		{"xl", "too short to search by similarity"},
		{"qwertyuiop", "below 0.50"},
		{"zzzzzz", ""},
		{"寿司", ""},
		{strings.Repeat("chicken ", 40), "over the limit of 256"},
		{strings.Repeat("🍗", 100), "over the limit of 256"},
	}
	for _, tt := range tests {
		t.Run(quoteShort(tt.name), func(t *testing.T) {
			m, err := d.Lookup(tt.name)
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("Lookup(%q) = %s %s %q, %v; want ErrNotFound", tt.name, m.How, m.Food.NDB, m.Matched, err)
			}
			if !strings.HasPrefix(err.Error(), "sr24: no food matches") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to start \"sr24: no food matches\" and say %q", err, tt.want)
			}
			if len(err.Error()) > 300 {
				t.Errorf("error message is %d bytes long: the name should be shortened", len(err.Error()))
			}
		})
	}
}

func TestSearch(t *testing.T) {
	d := loadData(t)
	tests := []struct {
		query   string
		limit   int
		first   string // NDB of the first match
		firstBy MatchKind
		all     string // every match's description contains this, when set
		atLeast int    // fewest matches
	}{
		{"salmon", 5, "15237", MatchAlias, "salmon", 5},
		{"Salmon", 20, "15237", MatchNormalized, "almon", 10},
		{"cheddar cheese", 3, "01009", MatchAlias, "", 3},
		{"brocoli", 5, "11090", MatchSimilar, "", 2},
		{"bananas raw", 1, "09040", MatchNormalized, "Banana", 1},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := d.Search(tt.query, tt.limit)
			if len(got) < tt.atLeast || len(got) > tt.limit {
				t.Fatalf("Search(%q, %d) gave %d matches, want %d to %d", tt.query, tt.limit, len(got), tt.atLeast, tt.limit)
			}
			if got[0].Food.NDB != tt.first || got[0].How != tt.firstBy {
				t.Errorf("first match %s %s, want %s %s", got[0].How, got[0].Food.NDB, tt.firstBy, tt.first)
			}
			seen := make(map[string]bool)
			for i, m := range got {
				if seen[m.Food.NDB] {
					t.Errorf("food %s listed twice", m.Food.NDB)
				}
				seen[m.Food.NDB] = true
				if i > 0 && m.Score > got[i-1].Score {
					t.Errorf("match %d scores %v, more than the one before (%v)", i, m.Score, got[i-1].Score)
				}
				if m.How == MatchSimilar && m.Score < MinSearchScore {
					t.Errorf("match %d scores %v, below MinSearchScore", i, m.Score)
				}
				if tt.all != "" && !strings.Contains(m.Food.Description, tt.all) {
					t.Errorf("match %d %q does not contain %q", i, m.Food.Description, tt.all)
				}
			}
		})
	}
}

func TestSearchReturnsNothing(t *testing.T) {
	d := loadData(t)
	tests := []struct {
		query string
		limit int
	}{
		{"salmon", 0},
		{"salmon", -1},
		{"", 10},
		{"...", 10},
		{"qwertyuiop", 10},
		{"a", 10},
		{strings.Repeat("salmon ", 50), 10},
	}
	for _, tt := range tests {
		t.Run(quoteShort(tt.query), func(t *testing.T) {
			if got := d.Search(tt.query, tt.limit); len(got) != 0 {
				t.Errorf("Search(%q, %d) = %d matches, first %q; want none", tt.query, tt.limit, len(got), got[0].Matched)
			}
		})
	}
}

func TestConcurrentLookups(t *testing.T) {
	d := loadData(t)
	names := []string{"chicken breast", "Eggs", "chiken brest", "salmon", "qwertyuiop"}
	want := make([]string, len(names))
	for i, name := range names {
		m, _ := d.Lookup(name)
		want[i] = m.Food.NDB
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(names))
	for range 8 {
		wg.Go(func() {
			for i, name := range names {
				m, _ := d.Lookup(name)
				if m.Food.NDB != want[i] {
					errs <- name + " gave " + m.Food.NDB + ", want " + want[i]
				}
				if len(d.Search(name, 3)) > 3 {
					errs <- name + ": Search ignored its limit"
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
