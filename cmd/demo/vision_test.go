package main

import (
	"testing"
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
