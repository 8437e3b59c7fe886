package meal

import (
	"bufio"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/healthagent/resilience/internal/testsr24"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// evalCase is one line of testdata/captions.txt.
type evalCase struct {
	line    int
	caption string
	refKcal float64
}

// readEvalCases reads testdata/captions.txt, checking that each line's
// written kcal is the sum of its reference foods.
func readEvalCases(t *testing.T, data *sr24.Dataset) []evalCase {
	t.Helper()
	f, err := os.Open("testdata/captions.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []evalCase
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		parts := strings.Split(text, "|")
		if len(parts) != 4 {
			t.Fatalf("captions.txt:%d: want caption | foods | kcal | how, got %q", line, text)
		}
		sum := 0.0
		for _, comp := range strings.Split(parts[1], ";") {
			f := strings.Fields(comp)
			if len(f) != 2 {
				t.Fatalf("captions.txt:%d: reference food %q: want NDB grams", line, comp)
			}
			food, ok := data.Food(f[0])
			g, err := strconv.ParseFloat(f[1], 64)
			if !ok || err != nil || g <= 0 {
				t.Fatalf("captions.txt:%d: reference food %q: unknown NDB or bad grams", line, comp)
			}
			sum += food.Per100g.EnergyKcal * g / 100
		}
		written, err := strconv.ParseFloat(strings.TrimSpace(parts[2]), 64)
		if err != nil || math.Abs(written-sum) > 0.5 {
			t.Fatalf("captions.txt:%d: written %q kcal, but the reference foods come to %.1f", line, parts[2], sum)
		}
		cases = append(cases, evalCase{line: line, caption: strings.TrimSpace(parts[0]), refKcal: sum})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// kcalOf is the energy of a parsed meal, from SR24.
func kcalOf(data *sr24.Dataset, items []Item) float64 {
	total := 0.0
	for _, it := range items {
		for _, c := range it.Components {
			f, _ := data.Food(c.NDB)
			total += f.Per100g.EnergyKcal * c.Grams / 100
		}
	}
	return total
}

// TestCaptionEval reads every caption of testdata/captions.txt and compares
// the energy of the parsed meal with the reference: at least 90 % of the
// captions must come within 25 %.
func TestCaptionEval(t *testing.T) {
	data := testsr24.Dataset(t)
	p := newParser(t)
	cases := readEvalCases(t, data)
	if len(cases) < 150 {
		t.Fatalf("%d captions, want at least 150", len(cases))
	}
	within := 0
	var errs []float64
	for _, c := range cases {
		items, err := p.Parse(c.caption)
		got := 0.0
		if err == nil {
			got = kcalOf(data, items)
		}
		rel := math.Abs(got-c.refKcal) / c.refKcal
		errs = append(errs, math.Abs(got-c.refKcal))
		if rel <= 0.25 {
			within++
		} else {
			t.Logf("captions.txt:%d %q: %.0f kcal, reference %.0f (%+.0f %%) %v", c.line, c.caption, got, c.refKcal, 100*(got-c.refKcal)/c.refKcal, err)
		}
	}
	slices.Sort(errs)
	share := float64(within) / float64(len(cases))
	median := errs[len(errs)/2]
	if len(errs)%2 == 0 {
		median = (errs[len(errs)/2-1] + errs[len(errs)/2]) / 2
	}
	t.Logf("%d captions: %.1f %% within 25 %% of the reference, median absolute error %.1f kcal", len(cases), 100*share, median)
	if share < 0.9 {
		t.Errorf("%.1f %% of captions within 25 %% of the reference, want at least 90 %%", 100*share)
	}
}
