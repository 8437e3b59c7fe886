package usda

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/healthagent/resilience/pkg/nutrition"
)

// FuzzDecodeSearch feeds arbitrary bodies to DecodeSearch: it must
// never panic, fail only with a *DecodeError, and return only foods with an
// id, a description and finite, non-negative nutrients. The seed corpus is
// in testdata/fuzz/FuzzDecodeSearch.
//
//	go test -run '^$' -fuzz FuzzDecodeSearch -fuzztime 30s ./pkg/nutrition/
func FuzzDecodeSearch(f *testing.F) {
	f.Add(readTestdata(f, "search_chicken_breast.json"))
	f.Add(readTestdata(f, "search_empty.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		foods, err := DecodeSearch(body)
		if err != nil {
			checkDecodeError(t, err, "search response")
			return
		}
		for _, r := range foods {
			checkDecoded(t, r)
		}
	})
}

// FuzzDecodeFood does the same for DecodeFood.
func FuzzDecodeFood(f *testing.F) {
	f.Add(readTestdata(f, "food_171477.json"))
	f.Add([]byte(`{"fdcId": 1, "description": "x", "foodNutrients": [{"nutrient": {"number": 208, "unitName": "kJ"}, "amount": 418.4}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeFood(body)
		if err != nil {
			checkDecodeError(t, err, "food response")
			return
		}
		checkDecoded(t, r)
	})
}

func checkDecodeError(t *testing.T, err error, what string) {
	t.Helper()
	var de *DecodeError
	if !errors.As(err, &de) || de.What != what || !strings.HasPrefix(err.Error(), "usda: decode "+what+": ") {
		t.Fatalf("error %v (%T) is not a *DecodeError for %s", err, err, what)
	}
}

func checkDecoded(t *testing.T, r nutrition.Result) {
	t.Helper()
	if r.ID == "" || r.ID[0] == '-' || r.ID == "0" || strings.TrimSpace(r.Description) == "" || r.Source != nutrition.SourceUSDA {
		t.Fatalf("decoded food %+v lacks an id, a description or the source", r)
	}
	for i, v := range r.Per100g.Values() {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			t.Fatalf("nutrient %d of %+v is %v", i, r, v)
		}
	}
}
