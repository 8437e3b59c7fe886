package main

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// foodXML returns a food file in the jar's format.
func foodXML(uid, name, body string) string {
	return `<food uid="` + uid + `" fcf="9.02" pcf="4.27" name="` + name + `" ccf="3.87">` + body + `</food>`
}

// goodFiles is a small jar: three foods listed out of order, one of them a
// placeholder with no nutrient, one without fiber, and a file that the
// index does not list.
func goodFiles() map[string]string {
	return map[string]string{
		"META-INF/MANIFEST.MF":  "Manifest-Version: 1.0\n",
		"usda_sr24/foods.index": "05064|Chicken breast, roasted\r\n01129|Egg, hard-boiled\r\n23999|Beef calculator\r\n",
		"usda_sr24/05064.xml": foodXML("05064", "Chicken, broilers or fryers, breast, meat only, cooked, roasted",
			`<measure amount="1.0" name="cup, chopped or diced" grams="140.0"/>`+
				`<measure amount="0.5" name="breast, bone and skin removed" grams="86.0"/>`+
				`<nutrient amount="165.0" name="Energy"/><nutrient amount="31.02" name="Protein"/>`+
				`<nutrient amount="0.0" name="Carbs"/><nutrient amount="3.57" name="Fat"/>`+
				`<nutrient amount="74.0" name="Sodium"/><nutrient amount="65.26" name="Water"/>`),
		"usda_sr24/01129.xml": foodXML("01129", "Egg, whole, cooked, hard-boiled",
			`<measure amount="1.0" name="large" grams="50.0"/>`+
				`<measure amount="1.0" name="extra large (9&quot; or longer)" grams="152.0"/>`+
				`<nutrient amount="155.0" name="Energy"/><nutrient amount="12.58" name="Protein"/>`+
				`<nutrient amount="1.12" name="Carbs"/><nutrient amount="0.0" name="Fiber"/>`+
				`<nutrient amount="10.61" name="Fat"/><nutrient amount="124.0" name="Sodium"/>`),
		"usda_sr24/23999.xml": `<food uid="23999" fcf="9.0" pcf="4.0" name="Beef calculator" ccf="4.0"/>`,
		"usda_sr24/99999.xml": foodXML("99999", "Not listed", `<nutrient amount="1" name="Energy"/>`),
	}
}

// writeJar zips files (in sorted order) into a jar in a new temporary
// folder and returns its path.
func writeJar(t *testing.T, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "usda_sr24.jar")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// readGzipCSV reads a file written by writeGzipCSV and its gzip header.
func readGzipCSV(t *testing.T, path string) (gzip.Header, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(zr).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return zr.Header, rows
}

func TestRunWritesSortedDataFiles(t *testing.T) {
	jar := writeJar(t, goodFiles())
	out := t.TempDir()
	var log bytes.Buffer
	if err := run([]string{"-jar", jar, "-out", out}, &log); err != nil {
		t.Fatalf("run: %v", err)
	}

	header, foods := readGzipCSV(t, filepath.Join(out, foodsFile))
	wantFoods := [][]string{
		foodsHeader,
		{"01129", "Egg, whole, cooked, hard-boiled", "155", "12.58", "1.12", "10.61", "0", "124"},
		{"05064", "Chicken, broilers or fryers, breast, meat only, cooked, roasted", "165", "31.02", "0", "3.57", "", "74"},
	}
	if !slices.EqualFunc(foods, wantFoods, slices.Equal) {
		t.Errorf("foods.csv.gz:\n got %q\nwant %q", foods, wantFoods)
	}
	if header.Name != "" || !header.ModTime.IsZero() {
		t.Errorf("gzip header carries name %q and time %v, want neither", header.Name, header.ModTime)
	}

	_, portions := readGzipCSV(t, filepath.Join(out, portionsFile))
	wantPortions := [][]string{
		portionsHeader,
		{"01129", "1 large", "50"},
		{"01129", `1 extra large (9" or longer)`, "152"},
		{"05064", "1 cup, chopped or diced", "140"},
		{"05064", "0.5 breast, bone and skin removed", "86"},
	}
	if !slices.EqualFunc(portions, wantPortions, slices.Equal) {
		t.Errorf("portions.csv.gz:\n got %q\nwant %q", portions, wantPortions)
	}

	for _, want := range []string{"skipped 23999 (Beef calculator): no Energy value", "wrote 2 foods and 4 portions"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log %q does not say %q", log.String(), want)
		}
	}
}

func TestRunIsDeterministic(t *testing.T) {
	jar := writeJar(t, goodFiles())
	first, second := t.TempDir(), t.TempDir()
	for _, out := range []string{first, second} {
		if err := run([]string{"-jar", jar, "-out", out}, io.Discard); err != nil {
			t.Fatalf("run: %v", err)
		}
	}
	for _, name := range []string{foodsFile, portionsFile} {
		a, err := os.ReadFile(filepath.Join(first, name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(second, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs on the same jar", name)
		}
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	// with returns goodFiles with one file replaced (or removed when
	// content is "").
	with := func(name, content string) map[string]string {
		files := goodFiles()
		if content == "" {
			delete(files, name)
		} else {
			files[name] = content
		}
		return files
	}
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no index", with("usda_sr24/foods.index", ""), "no foods.index in the jar"},
		{"empty index", with("usda_sr24/foods.index", "\r\n"), "lists no food"},
		{"index line without bar", with("usda_sr24/foods.index", "05064 Chicken\r\n"), `foods.index:1: want "NDB number|description"`},
		{"short NDB number", with("usda_sr24/foods.index", "5064|Chicken\r\n"), `foods.index:1: NDB number "5064" is not five digits`},
		{"NDB number listed twice", with("usda_sr24/foods.index", "05064|A\n01129|B\n05064|C\n"), "foods.index:3: NDB number 05064 already listed on line 1"},
		{"missing food file", with("usda_sr24/05064.xml", ""), "food 05064 is listed but usda_sr24/05064.xml is not in the jar"},
		{"broken XML", with("usda_sr24/05064.xml", `<food uid="05064" name="x"><nutrient`), "usda_sr24/05064.xml: bad XML"},
		{"wrong root element", with("usda_sr24/05064.xml", `<drink uid="05064" name="x"/>`), "usda_sr24/05064.xml: bad XML"},
		{"uid differs from file name", with("usda_sr24/05064.xml", foodXML("05065", "x", "")), `food uid "05065", want "05064"`},
		{"no name", with("usda_sr24/05064.xml", foodXML("05064", " ", "")), "food 05064 has no name"},
		{"amount not a number", with("usda_sr24/05064.xml", foodXML("05064", "x", `<nutrient amount="lots" name="Energy"/>`)), `nutrient "Energy": amount "lots" is not a number`},
		{"amount missing", with("usda_sr24/05064.xml", foodXML("05064", "x", `<nutrient name="Fat"/>`)), `nutrient "Fat": missing amount`},
		{"negative amount", with("usda_sr24/05064.xml", foodXML("05064", "x", `<nutrient amount="-1" name="Protein"/>`)), `amount "-1" is negative`},
		{"infinite amount", with("usda_sr24/05064.xml", foodXML("05064", "x", `<nutrient amount="Inf" name="Protein"/>`)), `amount "Inf" is not a number`},
		{"nutrient twice", with("usda_sr24/05064.xml", foodXML("05064", "x", `<nutrient amount="1" name="Fat"/><nutrient amount="2" name="Fat"/>`)), `nutrient "Fat" given twice`},
		{"measure of zero grams", with("usda_sr24/05064.xml", foodXML("05064", "x", `<measure amount="1" name="cup" grams="0"/>`)), "must both be above zero"},
		{"measure without name", with("usda_sr24/05064.xml", foodXML("05064", "x", `<measure amount="1" name="" grams="5"/>`)), "measure 1 has no name"},
		{"measure grams not a number", with("usda_sr24/05064.xml", foodXML("05064", "x", `<measure amount="1" name="cup" grams="a"/>`)), `measure 1 ("cup"): grams: amount "a" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jar := writeJar(t, tt.files)
			out := t.TempDir()
			err := run([]string{"-jar", jar, "-out", out}, io.Discard)
			if err == nil {
				t.Fatalf("run succeeded, want an error saying %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), "gensr24: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it prefixed \"gensr24: \" and saying %q", err, tt.want)
			}
			if _, statErr := os.Stat(filepath.Join(out, foodsFile)); statErr == nil {
				t.Errorf("%s was written despite the error", foodsFile)
			}
		})
	}
}

func TestRunRejectsBadArguments(t *testing.T) {
	notZip := filepath.Join(t.TempDir(), "not.jar")
	if err := os.WriteFile(notZip, []byte("this is not a zip file"), 0o644); err != nil {
		t.Fatal(err)
	}
	jar := writeJar(t, goodFiles())
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no flags", nil, "both -jar and -out are required"},
		{"no output", []string{"-jar", jar}, "both -jar and -out are required"},
		{"unknown flag", []string{"-jar", jar, "-out", t.TempDir(), "-v"}, "flag provided but not defined: -v"},
		{"extra argument", []string{"-jar", jar, "-out", t.TempDir(), "more"}, `unexpected arguments ["more"]`},
		{"missing jar", []string{"-jar", filepath.Join(t.TempDir(), "none.jar"), "-out", t.TempDir()}, "open jar"},
		{"not a zip", []string{"-jar", notZip, "-out", t.TempDir()}, "zip: not a valid zip file"},
		{"missing output folder", []string{"-jar", jar, "-out", filepath.Join(t.TempDir(), "none")}, "output folder"},
		{"output is a file", []string{"-jar", jar, "-out", notZip}, "is not a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(tt.args, io.Discard)
			if err == nil || !strings.HasPrefix(err.Error(), "gensr24: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v, want an error prefixed \"gensr24: \" saying %q", tt.args, err, tt.want)
			}
		})
	}
}

// TestOutputLoadsInSR24 checks that package sr24 reads what gensr24 writes.
func TestOutputLoadsInSR24(t *testing.T) {
	jar := writeJar(t, goodFiles())
	out := t.TempDir()
	if err := run([]string{"-jar", jar, "-out", out}, io.Discard); err != nil {
		t.Fatalf("run: %v", err)
	}
	aliases := "name,ndb\nchicken breast,05064\nboiled egg,01129\n"
	if err := os.WriteFile(filepath.Join(out, sr24.AliasesFile), []byte(aliases), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := sr24.LoadFS(os.DirFS(out))
	if err != nil {
		t.Fatalf("sr24.LoadFS: %v", err)
	}
	chicken, ok := d.Food("05064")
	if !ok {
		t.Fatal("food 05064 missing")
	}
	want := sr24.Nutrients{EnergyKcal: 165, ProteinG: 31.02, FatG: 3.57, SodiumMg: 74}
	if chicken.Per100g != want || !chicken.Unknown.Has(sr24.Fiber) || len(chicken.Portions) != 2 {
		t.Errorf("chicken %+v, want %+v with fiber unknown and two portions", chicken, want)
	}
	m, err := d.Lookup("Boiled Eggs")
	if err != nil || m.Food.NDB != "01129" {
		t.Errorf("Lookup(Boiled Eggs) = %+v, %v; want food 01129", m, err)
	}
}
