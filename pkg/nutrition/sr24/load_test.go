package sr24

import (
	"bytes"
	"compress/gzip"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadEmbeddedData(t *testing.T) {
	d := loadData(t)
	foods := d.Foods()
	if len(foods) != 7906 || d.Len() != len(foods) {
		t.Errorf("Load gave %d foods (Len %d), want the 7906 SR24 foods with an energy value", len(foods), d.Len())
	}
	if !slices.IsSortedFunc(foods, func(a, b Food) int { return strings.Compare(a.NDB, b.NDB) }) {
		t.Error("Foods are not sorted by NDB number")
	}
	portions := 0
	for _, f := range foods {
		if !validNDB(f.NDB) || f.Description == "" {
			t.Errorf("food %q %q: bad NDB number or no description", f.NDB, f.Description)
		}
		portions += len(f.Portions)
	}
	if portions != 13817 {
		t.Errorf("%d portions, want 13817", portions)
	}
	if _, ok := d.Food("23999"); ok {
		t.Error("food 23999 (ground beef calculator, no nutrient values) is in the data")
	}
	if _, ok := d.Food("99999"); ok {
		t.Error("Food(99999) found a food that does not exist")
	}
}

// TestSpotValues checks foods against the values of the SR24 source files.
func TestSpotValues(t *testing.T) {
	d := loadData(t)
	tests := []struct {
		ndb, description string
		per100g          Nutrients
		unknown          NutrientSet
		portion          Portion // one of the food's portions
	}{
		{"05064", "Chicken, broilers or fryers, breast, meat only, cooked, roasted",
			Nutrients{EnergyKcal: 165, ProteinG: 31.02, CarbohydrateG: 0, FatG: 3.57, FiberG: 0, SodiumMg: 74}, 0,
			Portion{"0.5 breast, bone and skin removed", 86}},
		{"01129", "Egg, whole, cooked, hard-boiled",
			Nutrients{EnergyKcal: 155, ProteinG: 12.58, CarbohydrateG: 1.12, FatG: 10.61, FiberG: 0, SodiumMg: 124}, 0,
			Portion{"1 large", 50}},
		{"20045", "Rice, white, long-grain, regular, cooked",
			Nutrients{EnergyKcal: 130, ProteinG: 2.69, CarbohydrateG: 28.17, FatG: 0.28, FiberG: 0.4, SodiumMg: 1}, 0,
			Portion{"1 cup", 158}},
		{"20445", "Rice, white, long-grain, regular, cooked, unenriched, without salt",
			Nutrients{EnergyKcal: 130, ProteinG: 2.69, CarbohydrateG: 28.17, FatG: 0.28, FiberG: 0.4, SodiumMg: 1}, 0,
			Portion{"1 cup", 158}},
		{"09040", "Bananas, raw",
			Nutrients{EnergyKcal: 89, ProteinG: 1.09, CarbohydrateG: 22.84, FatG: 0.33, FiberG: 2.6, SodiumMg: 1}, 0,
			Portion{`1 medium (7" to 7-7/8" long)`, 118}},
		{"02069", "Vinegar, balsamic",
			Nutrients{EnergyKcal: 88, ProteinG: 0.49, CarbohydrateG: 17.03, FatG: 0, FiberG: 0, SodiumMg: 23}, NutrientSet(0).With(Fiber),
			Portion{"1 tbsp", 16}},
	}
	for _, tt := range tests {
		t.Run(tt.ndb, func(t *testing.T) {
			f, ok := d.Food(tt.ndb)
			if !ok {
				t.Fatalf("Food(%s) not found", tt.ndb)
			}
			if f.Description != tt.description {
				t.Errorf("description %q, want %q", f.Description, tt.description)
			}
			if f.Per100g != tt.per100g {
				t.Errorf("per 100 g %+v, want %+v", f.Per100g, tt.per100g)
			}
			if f.Unknown != tt.unknown {
				t.Errorf("unknown nutrients %v, want %v", f.Unknown, tt.unknown)
			}
			if !slices.Contains(f.Portions, tt.portion) {
				t.Errorf("portions %+v lack %+v", f.Portions, tt.portion)
			}
		})
	}
}

func TestFoodIsACopy(t *testing.T) {
	d := loadData(t)
	f, _ := d.Food("05064")
	f.Portions[0].Grams = 1
	f.Description = "changed"
	again, _ := d.Food("05064")
	if again.Portions[0].Grams == 1 || again.Description == "changed" {
		t.Error("changing a returned Food changed the dataset")
	}
	foods := d.Foods()
	foods[0].Portions[0].Grams = 1
	if d.Foods()[0].Portions[0].Grams == 1 {
		t.Error("changing the result of Foods changed the dataset")
	}
}

func TestNutrientsScale(t *testing.T) {
	per100g := Nutrients{EnergyKcal: 165, ProteinG: 31.02, CarbohydrateG: 2, FatG: 3.57, FiberG: 1, SodiumMg: 74}
	tests := []struct {
		grams float64
		want  Nutrients
	}{
		{100, per100g},
		{0, Nutrients{}},
		{150, Nutrients{EnergyKcal: 247.5, ProteinG: 46.53, CarbohydrateG: 3, FatG: 5.355, FiberG: 1.5, SodiumMg: 111}},
		{50, Nutrients{EnergyKcal: 82.5, ProteinG: 15.51, CarbohydrateG: 1, FatG: 1.785, FiberG: 0.5, SodiumMg: 37}},
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	for _, tt := range tests {
		got := per100g.Scale(tt.grams)
		if !near(got.EnergyKcal, tt.want.EnergyKcal) || !near(got.ProteinG, tt.want.ProteinG) ||
			!near(got.CarbohydrateG, tt.want.CarbohydrateG) || !near(got.FatG, tt.want.FatG) ||
			!near(got.FiberG, tt.want.FiberG) || !near(got.SodiumMg, tt.want.SodiumMg) {
			t.Errorf("Scale(%v) = %+v, want %+v", tt.grams, got, tt.want)
		}
	}
}

func TestNutrientSet(t *testing.T) {
	s := NutrientSet(0).With(Fiber).With(Sodium).With(Fiber)
	for n := Energy; n < nutrientCount; n++ {
		if got, want := s.Has(n), n == Fiber || n == Sodium; got != want {
			t.Errorf("Has(%v) = %v, want %v", n, got, want)
		}
	}
	if got := s.String(); got != "{fiber_g sodium_mg}" {
		t.Errorf("String() = %q", got)
	}
	if s.With(Nutrient(9)) != s || s.Has(Nutrient(9)) {
		t.Error("an out-of-range nutrient changed or was found in the set")
	}
	if got := Nutrient(9).String(); got != "nutrient(9)" {
		t.Errorf("Nutrient(9).String() = %q", got)
	}
}

// gz compresses s.
func gz(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	goodFoods = "ndb,description,energy_kcal,protein_g,carbohydrate_g,fat_g,fiber_g,sodium_mg\n" +
		"01129,\"Egg, whole, cooked, hard-boiled\",155,12.58,1.12,10.61,0,124\n" +
		"05064,\"Chicken, broilers or fryers, breast, meat only, cooked, roasted\",165,31.02,0,3.57,,74\n"
	goodPortions = "ndb,description,grams\n" +
		"01129,1 large,50\n" +
		"05064,\"1 cup, chopped or diced\",140\n" +
		"05064,\"0.5 breast, bone and skin removed\",86\n"
	goodAliases = "name,ndb\nchicken breast,05064\negg,01129\n"
)

// dataFS returns a file system holding the three data files, each given
// uncompressed.
func dataFS(t *testing.T, foods, portions, aliases string) fstest.MapFS {
	fsys := fstest.MapFS{
		FoodsFile:    {Data: gz(t, foods)},
		PortionsFile: {Data: gz(t, portions)},
		AliasesFile:  {Data: []byte(aliases)},
	}
	return fsys
}

func TestLoadFSReadsSmallData(t *testing.T) {
	d, err := LoadFS(dataFS(t, goodFoods, goodPortions, goodAliases))
	if err != nil {
		t.Fatalf("LoadFS: %v", err)
	}
	chicken, ok := d.Food("05064")
	if !ok {
		t.Fatal("chicken breast not found")
	}
	if chicken.Per100g.EnergyKcal != 165 || !chicken.Unknown.Has(Fiber) || chicken.Unknown.Has(Sodium) {
		t.Errorf("chicken %+v: want 165 kcal and fiber unknown", chicken)
	}
	want := []Portion{{"1 cup, chopped or diced", 140}, {"0.5 breast, bone and skin removed", 86}}
	if !slices.Equal(chicken.Portions, want) {
		t.Errorf("portions %+v, want %+v", chicken.Portions, want)
	}
	if got := d.Aliases(); !slices.Equal(got, []Alias{{"chicken breast", "05064"}, {"egg", "01129"}}) {
		t.Errorf("aliases %+v", got)
	}
	if m, err := d.Lookup("Eggs"); err != nil || m.Food.NDB != "01129" {
		t.Errorf("Lookup(Eggs) = %+v, %v", m, err)
	}
}

func TestLoadFSRejectsCorruptData(t *testing.T) {
	const fh = "ndb,description,energy_kcal,protein_g,carbohydrate_g,fat_g,fiber_g,sodium_mg\n"
	tests := []struct {
		name                     string
		foods, portions, aliases string
		want                     string
	}{
		{"foods header", "ndb,name\n", goodPortions, goodAliases, `foods.csv.gz:1: header ["ndb" "name"]`},
		{"foods empty", "", goodPortions, goodAliases, "foods.csv.gz: empty file"},
		{"foods short row", fh + "01129,Egg,155\n", goodPortions, goodAliases, "foods.csv.gz:2: wrong number of fields"},
		{"foods bad quote", fh + "01129,\"Egg,155,1,1,1,1,1\n", goodPortions, goodAliases, "foods.csv.gz:2:"},
		{"NDB not five digits", fh + "1129,Egg,155,1,1,1,1,1\n", goodPortions, goodAliases, `foods.csv.gz:2: NDB number "1129" is not five digits`},
		{"NDB with letters", fh + "0112a,Egg,155,1,1,1,1,1\n", goodPortions, goodAliases, `NDB number "0112a" is not five digits`},
		{"foods unsorted", fh + "05064,Chicken,165,1,1,1,1,1\n01129,Egg,155,1,1,1,1,1\n", goodPortions, goodAliases, "foods.csv.gz:3: NDB number 01129 is not after 05064"},
		{"foods duplicate", fh + "01129,Egg,155,1,1,1,1,1\n01129,Egg,155,1,1,1,1,1\n", goodPortions, goodAliases, "foods.csv.gz:3: NDB number 01129 is not after 01129"},
		{"no description", fh + "01129,,155,1,1,1,1,1\n", goodPortions, goodAliases, "foods.csv.gz:2: food 01129 has no description"},
		{"energy not a number", fh + "01129,Egg,lots,1,1,1,1,1\n", goodPortions, goodAliases, `foods.csv.gz:2: food 01129: energy_kcal: "lots" is not a number`},
		{"energy NaN", fh + "01129,Egg,NaN,1,1,1,1,1\n", goodPortions, goodAliases, `energy_kcal: "NaN" is not a number`},
		{"negative fat", fh + "01129,Egg,155,1,1,-1,1,1\n", goodPortions, goodAliases, "foods.csv.gz:2: food 01129: fat_g: -1 is out of range [0, 100]"},
		{"protein over 100 g", fh + "01129,Egg,155,101,1,1,1,1\n", goodPortions, goodAliases, "protein_g: 101 is out of range [0, 100]"},
		{"energy too high", fh + "01129,Egg,5000,1,1,1,1,1\n", goodPortions, goodAliases, "energy_kcal: 5000 is out of range [0, 1000]"},
		{"portion of unknown food", goodFoods, "ndb,description,grams\n09999,1 cup,5\n", goodAliases, `portions.csv.gz:2: portion of unknown food "09999"`},
		{"portions unsorted", goodFoods, "ndb,description,grams\n05064,1 cup,5\n01129,1 large,50\n", goodAliases, "portions.csv.gz:3: food 01129 after food 05064"},
		{"portion of zero grams", goodFoods, "ndb,description,grams\n01129,1 large,0\n", goodAliases, `portions.csv.gz:2: food 01129: portion "1 large" weighs 0 g`},
		{"portion grams not a number", goodFoods, "ndb,description,grams\n01129,1 large,x\n", goodAliases, `portions.csv.gz:2: food 01129: grams: "x" is not a number`},
		{"portion without description", goodFoods, "ndb,description,grams\n01129,,5\n", goodAliases, "portions.csv.gz:2: portion of food 01129 has no description"},
		{"alias of unknown food", goodFoods, goodPortions, "name,ndb\negg,01129\nrice,20045\n", `aliases.csv:3: alias "rice": unknown food "20045"`},
		{"alias twice once normalised", goodFoods, goodPortions, "name,ndb\negg,01129\nEggs,01129\n", `aliases.csv:3: alias "Eggs" is the same name as the alias on line 2 once normalised ("egg")`},
		{"alias without letters", goodFoods, goodPortions, "name,ndb\n--,01129\n", `aliases.csv:2: alias "--" has no letter or digit`},
		{"aliases header", goodFoods, goodPortions, "alias,ndb\n", `aliases.csv:1: header ["alias" "ndb"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFS(dataFS(t, tt.foods, tt.portions, tt.aliases))
			if err == nil {
				t.Fatalf("LoadFS succeeded, want an error saying %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), "sr24: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it prefixed \"sr24: \" and saying %q", err, tt.want)
			}
		})
	}
}

func TestLoadFSRejectsMissingOrUnzippedFiles(t *testing.T) {
	good := dataFS(t, goodFoods, goodPortions, goodAliases)
	tests := []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"no foods", without(good, FoodsFile), "open foods.csv.gz: file does not exist"},
		{"no portions", without(good, PortionsFile), "open portions.csv.gz: file does not exist"},
		{"no aliases", without(good, AliasesFile), "open aliases.csv: file does not exist"},
		{"foods not gzip'd", with(good, FoodsFile, []byte(goodFoods)), "foods.csv.gz: gzip: invalid header"},
		{"foods truncated", with(good, FoodsFile, gz(t, goodFoods)[:30]), "foods.csv.gz:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFS(tt.fsys)
			if err == nil || !strings.HasPrefix(err.Error(), "sr24: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadFS = %v, want an error prefixed \"sr24: \" saying %q", err, tt.want)
			}
		})
	}
}

// without returns a copy of fsys without the named file.
func without(fsys fstest.MapFS, name string) fstest.MapFS {
	out := fstest.MapFS{}
	for k, v := range fsys {
		if k != name {
			out[k] = v
		}
	}
	return out
}

// with returns a copy of fsys with the named file's content replaced.
func with(fsys fstest.MapFS, name string, data []byte) fstest.MapFS {
	out := without(fsys, name)
	out[name] = &fstest.MapFile{Data: data}
	return out
}
