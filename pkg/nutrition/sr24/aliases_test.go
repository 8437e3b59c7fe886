package sr24

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestAliasesPointToFoodsAndAreUnique(t *testing.T) {
	d := loadData(t)
	aliases := d.Aliases()
	if len(aliases) < 500 {
		t.Errorf("%d aliases, want at least 500", len(aliases))
	}
	seen := make(map[string]string) // normalised name → alias
	for _, a := range aliases {
		if _, ok := d.Food(a.NDB); !ok {
			t.Errorf("alias %q points to %q, which is not a food", a.Name, a.NDB)
		}
		if a.Name != strings.TrimSpace(a.Name) || a.Name != strings.ToLower(a.Name) {
			t.Errorf("alias %q: want lower case without surrounding spaces", a.Name)
		}
		key := Normalize(a.Name)
		if first, dup := seen[key]; dup {
			t.Errorf("aliases %q and %q are the same once normalised (%q)", first, a.Name, key)
		}
		seen[key] = a.Name
	}
	if !slices.IsSortedFunc(aliases, func(a, b Alias) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("aliases.csv is not sorted by name")
	}
}

// TestAliasDefaults pins the defaults chosen for ambiguous everyday names,
// and checks that names meant to be the same food agree.
func TestAliasDefaults(t *testing.T) {
	d := loadData(t)
	tests := []struct {
		name, ndb string
	}{
		{"chicken breast", "05064"}, // roasted, meat only
		{"grilled chicken breast", "05064"},
		{"raw chicken breast", "05062"},
		{"egg", "01129"}, // whole, hard-boiled: eggs are counted as eaten
		{"boiled egg", "01129"},
		{"hard boiled egg", "01129"},
		{"raw egg", "01123"},
		{"rice", "20045"}, // white, long-grain, regular, cooked (enriched)
		{"white rice", "20045"},
		{"unenriched rice", "20445"},
		{"brown rice", "20037"},
		{"oatmeal", "08121"}, // cooked with water
		{"porridge", "08121"},
		{"banana", "09040"},
		{"apple", "09003"},
		{"milk", "01077"},     // whole
		{"bread", "18069"},    // white
		{"pasta", "20121"},    // cooked
		{"salmon", "15237"},   // Atlantic, farmed, cooked
		{"broccoli", "11090"}, // raw
		{"cooked broccoli", "11091"},
		{"soy milk", "16139"},
		{"soymilk", "16139"},
		{"mac and cheese", "22960"},
		{"macaroni and cheese", "22960"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := d.Lookup(tt.name)
			if err != nil {
				t.Fatalf("Lookup(%q): %v", tt.name, err)
			}
			if m.How != MatchAlias || m.Food.NDB != tt.ndb {
				t.Errorf("Lookup(%q) = %s %s (%s), want alias of %s", tt.name, m.How, m.Food.NDB, m.Food.Description, tt.ndb)
			}
		})
	}
}

func TestAliasesFileEndsWithNewline(t *testing.T) {
	data, err := os.ReadFile(AliasesFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 || data[len(data)-1] != '\n' || strings.Contains(string(data), "\r") {
		t.Error("aliases.csv must use LF line ends and end with one")
	}
}
