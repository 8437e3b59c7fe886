package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
)

// defaultCaptions is the caption set with reference energy, from the root
// of the repository (see docs/meals.md).
const defaultCaptions = "pkg/nutrition/meal/testdata/captions.txt"

// runEval posts every caption of a caption set to a replica built from the
// environment, in process, as POST /v1/meals, and compares the meal's total
// energy with the reference: it prints the captions more than 25 % off,
// the share within 25 % and the median absolute error. It exits 1 when
// fewer than 90 % come within 25 %.
func runEval(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("captions", defaultCaptions, "caption set: caption | reference foods | reference kcal | how")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cases, err := readCaptionSet(*file)
	if err != nil {
		fmt.Fprintln(stderr, "demo eval:", err)
		return 2
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	s, err := newService(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Fprintln(stderr, "demo eval:", err)
		return 1
	}
	defer s.close(context.Background())
	h := s.apiHandler()
	within, errs := 0, make([]float64, 0, len(cases))
	for _, c := range cases {
		got := 0.0
		body, _ := json.Marshal(mealRequest{Caption: c.caption})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/meals", bytes.NewReader(body)))
		var ans mealAnswer
		if rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &ans) == nil && ans.Totals.EnergyKcal != nil {
			got = *ans.Totals.EnergyKcal
		}
		errs = append(errs, math.Abs(got-c.kcal))
		if math.Abs(got-c.kcal) <= 0.25*c.kcal {
			within++
		} else {
			fmt.Fprintf(stdout, "off by %+4.0f %%: %q: %.0f kcal, reference %.0f\n", 100*(got-c.kcal)/c.kcal, c.caption, got, c.kcal)
		}
	}
	slices.Sort(errs)
	median := 0.0
	if n := len(errs); n > 0 {
		median = (errs[(n-1)/2] + errs[n/2]) / 2
	}
	share := float64(within) / float64(max(len(cases), 1))
	fmt.Fprintf(stdout, "%d captions: %.1f %% within 25 %% of the reference energy; median absolute error %.1f kcal\n", len(cases), 100*share, median)
	if share < 0.9 {
		return 1
	}
	return 0
}

// captionCase is one caption of a caption set with its reference energy.
type captionCase struct {
	caption string
	kcal    float64
}

// readCaptionSet reads a caption set: "caption | foods | kcal | how" per
// line, "#" comments.
func readCaptionSet(name string) ([]captionCase, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []captionCase
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		parts := strings.Split(text, "|")
		if len(parts) != 4 {
			return nil, fmt.Errorf("%s:%d: want caption | foods | kcal | how", name, line)
		}
		kcal, err := strconv.ParseFloat(strings.TrimSpace(parts[2]), 64)
		if err != nil || !(kcal > 0) {
			return nil, fmt.Errorf("%s:%d: reference kcal %q is not a positive number", name, line, strings.TrimSpace(parts[2]))
		}
		out = append(out, captionCase{caption: strings.TrimSpace(parts[0]), kcal: kcal})
	}
	return out, sc.Err()
}
