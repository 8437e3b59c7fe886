package main

import (
	"archive/zip"
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// indexName is the base name of the food list inside the jar.
const indexName = "foods.index"

// maxXMLBytes bounds the size of one food file; the real ones are a few KB.
const maxXMLBytes = 1 << 20

// ndbPattern is the form of an NDB number: five digits.
var ndbPattern = regexp.MustCompile(`^[0-9]{5}$`)

// nutrient is one of the six nutrients written to foods.csv.gz.
type nutrient int

const (
	energy nutrient = iota
	protein
	carbohydrate
	fat
	fiber
	sodium
	nutrientCount
)

// sourceNames maps the nutrient names used in the jar's XML files to the
// nutrients kept. Units in the source: Energy kcal; Protein, Carbs, Fat and
// Fiber g; Sodium mg; all per 100 g.
var sourceNames = map[string]nutrient{
	"Energy":  energy,
	"Protein": protein,
	"Carbs":   carbohydrate,
	"Fat":     fat,
	"Fiber":   fiber,
	"Sodium":  sodium,
}

// food is one food as read from the jar.
type food struct {
	ndb         string
	description string
	amounts     [nutrientCount]float64
	known       [nutrientCount]bool
	portions    []portion
}

// portion is one household measure of a food.
type portion struct {
	description string
	grams       float64
}

// skipped is a food left out of the output, with the reason.
type skipped struct {
	ndb, description, reason string
}

// xmlFood mirrors the <food> element of a food file.
type xmlFood struct {
	XMLName   xml.Name      `xml:"food"`
	UID       string        `xml:"uid,attr"`
	Name      string        `xml:"name,attr"`
	Measures  []xmlMeasure  `xml:"measure"`
	Nutrients []xmlNutrient `xml:"nutrient"`
}

type xmlMeasure struct {
	Amount string `xml:"amount,attr"`
	Name   string `xml:"name,attr"`
	Grams  string `xml:"grams,attr"`
}

type xmlNutrient struct {
	Amount string `xml:"amount,attr"`
	Name   string `xml:"name,attr"`
}

// readJar reads every food listed in the jar's foods.index, sorted by NDB
// number, and the foods it skipped.
func readJar(jarPath string) ([]food, []skipped, error) {
	zr, err := zip.OpenReader(jarPath)
	if err != nil {
		return nil, nil, fmt.Errorf("gensr24: open jar %s: %w", jarPath, err)
	}
	defer zr.Close()
	return readArchive(&zr.Reader, jarPath)
}

// readArchive does the work of readJar on an open zip archive; jarPath is
// used in error messages only.
func readArchive(zr *zip.Reader, jarPath string) ([]food, []skipped, error) {
	files := make(map[string]*zip.File, len(zr.File))
	var index *zip.File
	for _, f := range zr.File {
		files[f.Name] = f
		if path.Base(f.Name) == indexName {
			if index != nil {
				return nil, nil, fmt.Errorf("gensr24: %s: two food lists: %s and %s", jarPath, index.Name, f.Name)
			}
			index = f
		}
	}
	if index == nil {
		return nil, nil, fmt.Errorf("gensr24: %s: no %s in the jar: is it the cronometer usda_sr24.jar?", jarPath, indexName)
	}
	entries, err := readIndex(index)
	if err != nil {
		return nil, nil, err
	}
	dir := path.Dir(index.Name)
	var foods []food
	var skips []skipped
	for _, e := range entries {
		name := path.Join(dir, e.ndb+".xml")
		zf, ok := files[name]
		if !ok {
			return nil, nil, fmt.Errorf("gensr24: %s:%d: food %s is listed but %s is not in the jar", index.Name, e.line, e.ndb, name)
		}
		f, err := readFood(zf, e.ndb)
		if err != nil {
			return nil, nil, err
		}
		if !f.known[energy] {
			skips = append(skips, skipped{ndb: f.ndb, description: f.description, reason: "no Energy value"})
			continue
		}
		foods = append(foods, f)
	}
	sort.Slice(foods, func(i, j int) bool { return foods[i].ndb < foods[j].ndb })
	return foods, skips, nil
}

// indexEntry is one line of foods.index.
type indexEntry struct {
	ndb  string
	line int
}

// readIndex parses foods.index: "NDB|description" lines, CRLF or LF.
func readIndex(zf *zip.File) ([]indexEntry, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("gensr24: %s: %w", zf.Name, err)
	}
	defer rc.Close()
	seen := make(map[string]int)
	var entries []indexEntry
	sc := bufio.NewScanner(rc)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			continue
		}
		ndb, _, ok := strings.Cut(text, "|")
		if !ok {
			return nil, fmt.Errorf("gensr24: %s:%d: want \"NDB number|description\", got %q", zf.Name, line, text)
		}
		if !ndbPattern.MatchString(ndb) {
			return nil, fmt.Errorf("gensr24: %s:%d: NDB number %q is not five digits", zf.Name, line, ndb)
		}
		if first, dup := seen[ndb]; dup {
			return nil, fmt.Errorf("gensr24: %s:%d: NDB number %s already listed on line %d", zf.Name, line, ndb, first)
		}
		seen[ndb] = line
		entries = append(entries, indexEntry{ndb: ndb, line: line})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("gensr24: %s:%d: %w", zf.Name, line+1, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("gensr24: %s: lists no food", zf.Name)
	}
	return entries, nil
}

// readFood parses one food file and checks that it describes food ndb.
func readFood(zf *zip.File, ndb string) (food, error) {
	fail := func(format string, args ...any) (food, error) {
		return food{}, fmt.Errorf("gensr24: %s: "+format, append([]any{zf.Name}, args...)...)
	}
	if zf.UncompressedSize64 > maxXMLBytes {
		return fail("%d bytes, more than the limit of %d for one food", zf.UncompressedSize64, maxXMLBytes)
	}
	rc, err := zf.Open()
	if err != nil {
		return fail("%w", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxXMLBytes+1))
	if err != nil {
		return fail("%w", err)
	}
	var x xmlFood
	if err := xml.Unmarshal(data, &x); err != nil {
		return fail("bad XML: %w", err)
	}
	if x.UID != ndb {
		return fail("food uid %q, want %q", x.UID, ndb)
	}
	f := food{ndb: ndb, description: strings.TrimSpace(x.Name)}
	if f.description == "" {
		return fail("food %s has no name", ndb)
	}
	for _, n := range x.Nutrients {
		which, kept := sourceNames[n.Name]
		if !kept {
			continue
		}
		if f.known[which] {
			return fail("nutrient %q given twice", n.Name)
		}
		v, err := parseAmount(n.Amount)
		if err != nil {
			return fail("nutrient %q: %w", n.Name, err)
		}
		f.amounts[which] = v
		f.known[which] = true
	}
	for i, m := range x.Measures {
		amount, err := parseAmount(m.Amount)
		if err != nil {
			return fail("measure %d (%q): amount: %w", i+1, m.Name, err)
		}
		grams, err := parseAmount(m.Grams)
		if err != nil {
			return fail("measure %d (%q): grams: %w", i+1, m.Name, err)
		}
		unit := strings.Join(strings.Fields(m.Name), " ")
		if unit == "" {
			return fail("measure %d has no name", i+1)
		}
		if amount == 0 || grams == 0 {
			return fail("measure %d (%q): amount %s and grams %s must both be above zero", i+1, m.Name, m.Amount, m.Grams)
		}
		f.portions = append(f.portions, portion{
			description: formatNumber(amount) + " " + unit,
			grams:       grams,
		})
	}
	return f, nil
}

// parseAmount parses a non-negative finite decimal number.
func parseAmount(s string) (float64, error) {
	if s == "" {
		return 0, errors.New("missing amount")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("amount %q is not a number", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("amount %q is negative", s)
	}
	return v, nil
}

// formatNumber writes v in the shortest form that parses back to v
// ("165" for 165.0, "31.02" for 31.02).
func formatNumber(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}
