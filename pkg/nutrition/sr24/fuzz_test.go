package sr24

import (
	"errors"
	"testing"
)

// FuzzLookup checks that no name makes Lookup or Search panic, and that
// every answer is well formed. The seed corpus is in testdata/fuzz.
func FuzzLookup(f *testing.F) {
	d := loadData(f)
	for _, s := range []string{"chicken breast", "Eggs,", "chiken brest", "", "a", "\x00", "寿司"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		m, err := d.Lookup(name)
		if err != nil {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("Lookup(%q): error %v does not wrap ErrNotFound", name, err)
			}
		} else {
			if _, ok := d.Food(m.Food.NDB); !ok {
				t.Fatalf("Lookup(%q) returned unknown food %q", name, m.Food.NDB)
			}
			switch m.How {
			case MatchAlias, MatchNormalized:
				if m.Score != 1 {
					t.Fatalf("Lookup(%q): %s match scores %v", name, m.How, m.Score)
				}
			case MatchSimilar:
				if m.Score < MinLookupScore || m.Score > 1 {
					t.Fatalf("Lookup(%q): similar match scores %v", name, m.Score)
				}
			default:
				t.Fatalf("Lookup(%q): unknown match kind %q", name, m.How)
			}
		}
		matches := d.Search(name, 5)
		if len(matches) > 5 {
			t.Fatalf("Search(%q, 5) gave %d matches", name, len(matches))
		}
		if err == nil && (len(matches) == 0 || matches[0].Food.NDB != m.Food.NDB) {
			t.Fatalf("Search(%q) does not start with the food Lookup found (%s)", name, m.Food.NDB)
		}
	})
}
