package main

import (
	"testing"

	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

func TestParseMeal(t *testing.T) {
	tests := []struct {
		answer string
		items  int
		ok     bool
	}{
		{`{"items":[{"name":"rice","grams":200}]}`, 1, true},
		{"Here you go:\n```json\n{\"items\":[{\"name\":\"egg\",\"grams\":50},{\"name\":\" apple \",\"grams\":180}]}\n```", 2, true},
		{`no json at all`, 0, false},
		{`{"items":[]}`, 0, false},
		{`{"items":[{"name":"","grams":10}]}`, 0, false},
		{`{"items":[{"name":"rice","grams":-5}]}`, 0, false},
		{`{"items":[{"name":"rice","grams":1e9}]}`, 0, false},
		{`{"items":[{"name":"rice","grams":"lots"}]}`, 0, false},
		{`}{`, 0, false},
		{`{"items":[{"name":"rice","grams":100}]`, 0, false},
	}
	for _, tt := range tests {
		items, err := parseMeal(tt.answer)
		if (err == nil) != tt.ok || len(items) != tt.items {
			t.Errorf("parseMeal(%q) = %v, %v; want %d items, ok=%v", tt.answer, items, err, tt.items, tt.ok)
		}
	}
}

func TestSplitAmount(t *testing.T) {
	tests := []struct {
		in     string
		amount float64
		grams  bool
		name   string
	}{
		{"150 g chicken breast", 150, true, "chicken breast"},
		{"150g rice", 150, true, "rice"},
		{"200 grams of pasta", 200, true, "pasta"},
		{"2 eggs", 2, false, "eggs"},
		{"banana", 1, false, "banana"},
		{"100 calories", 1, false, "100 calories"},
		{"-3 g rice", 1, false, "-3 g rice"},
		{"", 0, false, ""},
	}
	for _, tt := range tests {
		amount, grams, name := splitAmount(tt.in)
		if amount != tt.amount || grams != tt.grams || name != tt.name {
			t.Errorf("splitAmount(%q) = %v, %v, %q; want %v, %v, %q", tt.in, amount, grams, name, tt.amount, tt.grams, tt.name)
		}
	}
}

func TestCaptionMeal(t *testing.T) {
	data, err := sr24.Load()
	if err != nil {
		t.Fatal(err)
	}
	items := captionMeal(data, "150 g chicken breast and 200g rice, 2 eggs; a xylophone with a banana")
	want := map[string]bool{"chicken breast": true, "rice": true, "eggs": true, "banana": true}
	if len(items) != 4 {
		t.Fatalf("items = %+v", items)
	}
	for _, it := range items {
		if !want[it.Name] {
			t.Fatalf("unexpected item %+v", it)
		}
	}
	if items[0].Grams != 150 || items[1].Grams != 200 || items[2].Grams < 80 || items[2].Grams > 120 {
		t.Fatalf("weights: %+v (two eggs are about 100 g)", items)
	}
	if m := mockMeal(data, "something unknowable"); !m.Estimated || len(m.Items) != 1 || m.Items[0].Name != genericDish {
		t.Fatalf("mock meal: %+v", m)
	}
}

// FuzzParseMeal: no model answer panics the meal parser, and an accepted
// one holds 1 to 20 foods with names and sane weights.
func FuzzParseMeal(f *testing.F) {
	f.Add(`{"items":[{"name":"rice","grams":200}]}`)
	f.Add("```json\n{\"items\":[{\"name\":\"egg\",\"grams\":50}]}\n```")
	f.Add(`{"items":[{"name":"x","grams":1e400}]}`)
	f.Fuzz(func(t *testing.T, answer string) {
		items, err := parseMeal(answer)
		if err != nil {
			return
		}
		if len(items) == 0 || len(items) > 20 {
			t.Fatalf("%d items from %q", len(items), answer)
		}
		for _, it := range items {
			if it.Name == "" || !(it.Grams > 0 && it.Grams <= 5000) {
				t.Fatalf("item %+v from %q", it, answer)
			}
		}
	})
}
