package sr24

import (
	"compress/gzip"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"slices"
	"strconv"
)

// The data files, as written by gensr24 (foods, portions) and curated by
// hand (aliases).
const (
	FoodsFile    = "foods.csv.gz"
	PortionsFile = "portions.csv.gz"
	AliasesFile  = "aliases.csv"
)

//go:embed foods.csv.gz portions.csv.gz aliases.csv
var embedded embed.FS

var (
	foodsHeader    = []string{"ndb", "description", "energy_kcal", "protein_g", "carbohydrate_g", "fat_g", "fiber_g", "sodium_mg"}
	portionsHeader = []string{"ndb", "description", "grams"}
	aliasesHeader  = []string{"name", "ndb"}
)

// Upper bounds per 100 g that no real food exceeds: pure fat gives about
// 900 kcal, 100 g hold at most 100 g of anything, and sodium at most
// 100 000 mg. A value above them means the file is corrupt.
const (
	maxEnergyKcal = 1000
	maxGrams      = 100
	maxSodiumMg   = 100000
)

// foodsHint is the number of foods in SR24, to size the slice once.
const foodsHint = 7906

// Load parses the data embedded in the package. Each call parses anew and
// returns a new Dataset (a few tens of milliseconds); keep the Dataset
// rather than calling Load per request.
func Load() (*Dataset, error) {
	return LoadFS(embedded)
}

// LoadFS parses foods.csv.gz, portions.csv.gz and aliases.csv from the root
// of fsys, for data regenerated outside the package. Errors name the file
// and the line at fault.
func LoadFS(fsys fs.FS) (*Dataset, error) {
	d := &Dataset{foods: make([]Food, 0, foodsHint)}
	if err := readFile(fsys, FoodsFile, true, foodsHeader, d.addFood); err != nil {
		return nil, err
	}
	d.byNDB = make(map[string]int32, len(d.foods))
	for i, f := range d.foods {
		d.byNDB[f.NDB] = int32(i)
	}
	if err := readFile(fsys, PortionsFile, true, portionsHeader, d.addPortion); err != nil {
		return nil, err
	}
	d.finishPortions()
	if err := readFile(fsys, AliasesFile, false, aliasesHeader, d.addAlias); err != nil {
		return nil, err
	}
	d.buildIndex()
	return d, nil
}

// lineError is an error about one line of a data file.
func lineError(file string, line int, format string, args ...any) error {
	return fmt.Errorf("sr24: %s:%d: %s", file, line, fmt.Sprintf(format, args...))
}

// readFile opens name in fsys (gunzipping it when zipped), checks the CSV
// header and calls add for each record with its line number. The record
// is reused between calls.
func readFile(fsys fs.FS, name string, zipped bool, header []string, add func(rec []string, line int) error) error {
	f, err := fsys.Open(name)
	if err != nil {
		return fmt.Errorf("sr24: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if zipped {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("sr24: %s: %w", name, err)
		}
		defer zr.Close()
		r = zr
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // the header is checked below
	cr.ReuseRecord = true
	got, err := cr.Read()
	if err == io.EOF {
		return fmt.Errorf("sr24: %s: empty file, want the header %q", name, header)
	}
	if err != nil {
		return csvError(name, err)
	}
	if !slices.Equal(got, header) {
		return lineError(name, 1, "header %q, want %q", got, header)
	}
	cr.FieldsPerRecord = len(header)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		if err := add(rec, line); err != nil {
			return err
		}
	}
}

// csvError names the file and line of a CSV or gzip error.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return lineError(name, pe.Line, "%v", pe.Err)
	}
	return fmt.Errorf("sr24: %s: %w", name, err)
}

// addFood parses one record of foods.csv.gz.
func (d *Dataset) addFood(rec []string, line int) error {
	ndb, desc := rec[0], rec[1]
	if !validNDB(ndb) {
		return lineError(FoodsFile, line, "NDB number %q is not five digits", ndb)
	}
	if n := len(d.foods); n > 0 && ndb <= d.foods[n-1].NDB {
		return lineError(FoodsFile, line, "NDB number %s is not after %s: the file must be sorted with no duplicate", ndb, d.foods[n-1].NDB)
	}
	if desc == "" {
		return lineError(FoodsFile, line, "food %s has no description", ndb)
	}
	f := Food{NDB: ndb, Description: desc}
	fields := [nutrientCount]*float64{
		&f.Per100g.EnergyKcal, &f.Per100g.ProteinG, &f.Per100g.CarbohydrateG,
		&f.Per100g.FatG, &f.Per100g.FiberG, &f.Per100g.SodiumMg,
	}
	for n := Nutrient(0); n < nutrientCount; n++ {
		s := rec[2+int(n)]
		if s == "" {
			f.Unknown = f.Unknown.With(n)
			continue
		}
		limit := float64(maxGrams)
		switch n {
		case Energy:
			limit = maxEnergyKcal
		case Sodium:
			limit = maxSodiumMg
		}
		v, err := parseNumber(s, limit)
		if err != nil {
			return lineError(FoodsFile, line, "food %s: %s: %v", ndb, n, err)
		}
		*fields[n] = v
	}
	d.foods = append(d.foods, f)
	return nil
}

// addPortion parses one record of portions.csv.gz. Portions are collected
// in d.portions and handed to their foods by finishPortions.
func (d *Dataset) addPortion(rec []string, line int) error {
	ndb, desc := rec[0], rec[1]
	i, ok := d.byNDB[ndb]
	if !ok {
		return lineError(PortionsFile, line, "portion of unknown food %q", ndb)
	}
	if n := len(d.portionOf); n > 0 && i < d.portionOf[n-1] {
		return lineError(PortionsFile, line, "food %s after food %s: the file must be sorted by NDB number", ndb, d.foods[d.portionOf[n-1]].NDB)
	}
	if desc == "" {
		return lineError(PortionsFile, line, "portion of food %s has no description", ndb)
	}
	grams, err := parseNumber(rec[2], math.MaxFloat64)
	if err != nil {
		return lineError(PortionsFile, line, "food %s: grams: %v", ndb, err)
	}
	if grams == 0 {
		return lineError(PortionsFile, line, "food %s: portion %q weighs 0 g", ndb, desc)
	}
	d.portions = append(d.portions, Portion{Description: desc, Grams: grams})
	d.portionOf = append(d.portionOf, i)
	return nil
}

// finishPortions points each food at its run of d.portions (which is sorted
// by food) and drops the scaffolding.
func (d *Dataset) finishPortions() {
	for start := 0; start < len(d.portions); {
		i := d.portionOf[start]
		end := start
		for end < len(d.portions) && d.portionOf[end] == i {
			end++
		}
		d.foods[i].Portions = d.portions[start:end:end]
		start = end
	}
	d.portions, d.portionOf = nil, nil
}

// addAlias parses one record of aliases.csv.
func (d *Dataset) addAlias(rec []string, line int) error {
	name, ndb := rec[0], rec[1]
	i, ok := d.byNDB[ndb]
	if !ok {
		return lineError(AliasesFile, line, "alias %q: unknown food %q", name, ndb)
	}
	key := Normalize(name)
	if key == "" {
		return lineError(AliasesFile, line, "alias %q has no letter or digit", name)
	}
	if d.aliasLine == nil {
		d.aliasLine = make(map[string]int)
	}
	if first, dup := d.aliasLine[key]; dup {
		return lineError(AliasesFile, line, "alias %q is the same name as the alias on line %d once normalised (%q)", name, first, key)
	}
	d.aliasLine[key] = line
	d.aliases = append(d.aliases, alias{Alias: Alias{Name: name, NDB: ndb}, food: i, key: key})
	return nil
}

// validNDB reports whether s is five ASCII digits.
func validNDB(s string) bool {
	if len(s) != 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseNumber parses a finite number from 0 to limit.
func parseNumber(s string, limit float64) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if v < 0 || v > limit {
		return 0, fmt.Errorf("%s is out of range [0, %g]", s, limit)
	}
	return v, nil
}
