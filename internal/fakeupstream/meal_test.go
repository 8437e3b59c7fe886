package fakeupstream

import (
	"strings"
	"testing"
)

func newTestMealWriter(t *testing.T) *mealWriter {
	t.Helper()
	data, err := testData()
	if err != nil {
		t.Fatalf("loading sr24: %v", err)
	}
	m, err := newMealWriter(data)
	if err != nil {
		t.Fatalf("newMealWriter: %v", err)
	}
	return m
}

func TestFindFoods(t *testing.T) {
	m := newTestMealWriter(t)
	tests := []struct {
		text string
		want []mealItem
	}{
		{"150 g chicken breast", []mealItem{{"chicken breast", 150}}},
		{"150g Chicken Breasts and 200 grams of rice", []mealItem{{"chicken breast", 150}, {"rice", 200}}},
		{"grilled chicken breast, 0 g of nothing", []mealItem{{"grilled chicken breast", m.foods["grilled chicken breast"].defaultGrams}}},
		{"rice, rice and more rice", []mealItem{{"rice", m.foods["rice"].defaultGrams}}},
		{"1 kg potato", []mealItem{{"potato", 1000}}},
		{"What is in this photo? Reply with JSON.", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			found := m.findFoods(tt.text)
			if len(found) != len(tt.want) {
				t.Fatalf("found %d foods, want %d: %+v", len(found), len(tt.want), found)
			}
			for i, f := range found {
				if (mealItem{f.name, f.grams}) != tt.want[i] {
					t.Errorf("food %d: %s %d g, want %+v", i, f.name, f.grams, tt.want[i])
				}
			}
		})
	}
	t.Run("at most maxMealItems", func(t *testing.T) {
		text := strings.Repeat("apple banana bread cheese egg pasta rice salmon steak tomato ", 3)
		if got := len(m.findFoods(text)); got != maxMealItems {
			t.Errorf("%d foods, want %d", got, maxMealItems)
		}
	})
}

func TestReadGrams(t *testing.T) {
	tests := []struct {
		words      string
		grams, use int
	}{
		{"150 g rice", 150, 2},
		{"150g rice", 150, 1},
		{"150 gram", 150, 2},
		{"2 kg", 2000, 2},
		{"9 kg", 0, 0},
		{"2 eggs", 0, 0},
		{"rice", 0, 0},
		{"0 g", 0, 0},
		{"99999 g", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.words, func(t *testing.T) {
			g, n := readGrams(strings.Fields(tt.words))
			if g != tt.grams || n != tt.use {
				t.Errorf("readGrams = %d, %d; want %d, %d", g, n, tt.grams, tt.use)
			}
		})
	}
}

func TestDescribePhoto(t *testing.T) {
	m := newTestMealWriter(t)
	seen := map[string]bool{}
	sizes := map[int]bool{}
	for h := range uint64(400) {
		got := m.describePhoto("", h)
		if again := m.describePhoto("", h); !equalMeals(got, again) {
			t.Fatalf("hash %d gave %+v, then %+v", h, got, again)
		}
		sizes[len(got.Items)] = true
		names := map[string]bool{}
		for _, it := range got.Items {
			if names[it.Name] {
				t.Errorf("hash %d repeats %q: %+v", h, it.Name, got.Items)
			}
			names[it.Name] = true
			seen[it.Name] = true
			if it.Grams <= 0 || it.Grams%5 != 0 {
				t.Errorf("hash %d: %+v has odd grams", h, it)
			}
		}
	}
	if len(sizes) != 3 || !sizes[1] || !sizes[3] {
		t.Errorf("meal sizes %v, want 1, 2 and 3", sizes)
	}
	if len(seen) != len(photoMenu) {
		t.Errorf("%d of %d menu foods ever chosen", len(seen), len(photoMenu))
	}
	if got := m.describePhoto("a bowl of porridge", 1); len(got.Items) != 1 || got.Items[0].Name != "porridge" {
		t.Errorf("captioned photo gave %+v", got.Items)
	}
}
