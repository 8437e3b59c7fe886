package postgres

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/healthagent/resilience/pkg/config"
	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

func TestSaveAnswer(t *testing.T) {
	s, _, clock := seededStore(t, Config{})
	ctx := testContext(t)
	base := nutrition.Result{Query: "Kale Chips", Source: nutrition.SourceUSDA, ID: "1", Description: "Kale chips, first",
		Per100g: sr24.Nutrients{EnergyKcal: 480, ProteinG: 10}, Unknown: sr24.NutrientSet(0).With(sr24.Fiber).With(sr24.Sodium)}

	// A zero FetchedAt means the store's clock.
	if err := s.SaveAnswer(ctx, base); err != nil {
		t.Fatal(err)
	}
	r, err := s.Lookup(ctx, "kale chip")
	if err != nil {
		t.Fatal(err)
	}
	if r.How != nutrition.MatchCached || r.ID != "1" || !r.FetchedAt.Equal(testStart) || r.Unknown != base.Unknown || r.Per100g != base.Per100g {
		t.Fatalf("Lookup = %+v, want the saved answer, fetched at the clock's %v, fiber and sodium unknown", r, testStart)
	}

	steps := []struct {
		name      string
		id        string
		fetchedAt time.Time
		want      string // the ID Lookup gives afterwards
	}{
		{"newer answer replaces", "2", testStart.Add(time.Hour), "2"},
		{"older answer is ignored", "3", testStart.Add(time.Minute), "2"},
		{"same time replaces", "4", testStart.Add(time.Hour), "4"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			a := base
			a.ID, a.FetchedAt = st.id, st.fetchedAt
			if err := s.SaveAnswer(ctx, a); err != nil {
				t.Fatal(err)
			}
			r, err := s.Lookup(ctx, "KALE CHIPS")
			if err != nil || r.ID != st.want {
				t.Fatalf("Lookup = %+v, %v; want id %s", r, err, st.want)
			}
		})
	}

	// Another source keeps its own row; the freshest answer wins.
	clock.Advance(2 * time.Hour)
	web := base
	web.Source, web.ID, web.Description = nutrition.SourceWeb, "", "Kale chips from the web"
	if err := s.SaveAnswer(ctx, web); err != nil {
		t.Fatal(err)
	}
	r, err = s.Lookup(ctx, "kale chips")
	if err != nil || r.Source != nutrition.SourceWeb || r.ID != "" || r.Description != web.Description {
		t.Fatalf("Lookup = %+v, %v; want the fresher web answer, without id", r, err)
	}
}

func TestSaveAnswerRejectsBadAnswers(t *testing.T) {
	s, _, _ := seededStore(t, Config{})
	ctx := testContext(t)
	good := nutrition.Result{Query: "kale chips", Source: nutrition.SourceUSDA, Description: "Kale chips", Per100g: sr24.Nutrients{EnergyKcal: 480}}
	tests := []struct {
		name  string
		edit  func(r *nutrition.Result)
		field string
	}{
		{"empty query", func(r *nutrition.Result) { r.Query = "" }, "answer Query"},
		{"query without letters", func(r *nutrition.Result) { r.Query = "--" }, "answer Query"},
		{"query too long", func(r *nutrition.Result) { r.Query = strings.Repeat("k", sr24.MaxNameBytes+1) }, "answer Query"},
		{"no source", func(r *nutrition.Result) { r.Source = "" }, "answer Source"},
		{"odd source", func(r *nutrition.Result) { r.Source = "USDA API" }, "answer Source"},
		{"sr24 source", func(r *nutrition.Result) { r.Source = nutrition.SourceSR24 }, "answer Source"},
		{"no description", func(r *nutrition.Result) { r.Description = "" }, "answer Description"},
		{"NaN energy", func(r *nutrition.Result) { r.Per100g.EnergyKcal = math.NaN() }, "answer Per100g.energy_kcal"},
		{"negative fat", func(r *nutrition.Result) { r.Per100g.FatG = -1 }, "answer Per100g.fat_g"},
		{"infinite sodium", func(r *nutrition.Result) { r.Per100g.SodiumMg = math.Inf(1) }, "answer Per100g.sodium_mg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			tt.edit(&r)
			err := s.SaveAnswer(ctx, r)
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Field != tt.field {
				t.Fatalf("SaveAnswer = %v, want a *config.Error for %s", err, tt.field)
			}
		})
	}
	// An unknown nutrient may hold anything: it is not stored.
	r := good
	r.Per100g.FiberG, r.Unknown = math.NaN(), sr24.NutrientSet(0).With(sr24.Fiber)
	if err := s.SaveAnswer(ctx, r); err != nil {
		t.Errorf("SaveAnswer with an unknown NaN fiber: %v", err)
	}
}

func TestStaleAnswers(t *testing.T) {
	s, _, _ := seededStore(t, Config{})
	ctx := testContext(t)
	save := func(query string, source nutrition.Source, age time.Duration) {
		t.Helper()
		err := s.SaveAnswer(ctx, nutrition.Result{Query: query, Source: source, Description: query, FetchedAt: testStart.Add(-age)})
		if err != nil {
			t.Fatal(err)
		}
	}
	save("oldest", nutrition.SourceUSDA, 3*time.Hour)
	save("old", nutrition.SourceUSDA, 2*time.Hour)
	save("fresh", nutrition.SourceUSDA, 10*time.Minute)
	save("old web", nutrition.SourceWeb, 5*time.Hour)

	tests := []struct {
		name   string
		source nutrition.Source
		before time.Time
		limit  int
		want   []string
	}{
		{"older than an hour", nutrition.SourceUSDA, testStart.Add(-time.Hour), 10, []string{"oldest", "old"}},
		{"limit", nutrition.SourceUSDA, testStart.Add(-time.Hour), 1, []string{"oldest"}},
		{"everything", nutrition.SourceUSDA, testStart, 10, []string{"oldest", "old", "fresh"}},
		{"other source", nutrition.SourceWeb, testStart, 10, []string{"old web"}},
		{"none yet", nutrition.SourceUSDA, testStart.Add(-4 * time.Hour), 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.StaleAnswers(ctx, tt.source, tt.before, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var queries []string
			for _, r := range got {
				queries = append(queries, r.Query)
				if r.Source != tt.source || r.How != nutrition.MatchCached || !r.FetchedAt.Before(tt.before) {
					t.Errorf("stale answer %+v: wrong source, kind or age", r)
				}
			}
			if strings.Join(queries, ",") != strings.Join(tt.want, ",") {
				t.Errorf("StaleAnswers = %q, want %q", queries, tt.want)
			}
		})
	}
	var ce *config.Error
	if _, err := s.StaleAnswers(ctx, nutrition.SourceUSDA, testStart, 0); !errors.As(err, &ce) {
		t.Errorf("StaleAnswers with limit 0 = %v, want a *config.Error", err)
	}
	if _, err := s.StaleAnswers(ctx, "", testStart, 1); !errors.As(err, &ce) {
		t.Errorf("StaleAnswers without a source = %v, want a *config.Error", err)
	}
}
