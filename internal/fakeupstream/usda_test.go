package fakeupstream

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/healthagent/resilience/internal/testsr24"
)

// searchResponse is what a FoodData Central client reads from a search.
type searchResponse struct {
	TotalHits   int `json:"totalHits"`
	CurrentPage int `json:"currentPage"`
	TotalPages  int `json:"totalPages"`
	Foods       []struct {
		FdcID         int    `json:"fdcId"`
		Description   string `json:"description"`
		DataType      string `json:"dataType"`
		FoodNutrients []struct {
			NutrientID     int     `json:"nutrientId"`
			NutrientName   string  `json:"nutrientName"`
			NutrientNumber string  `json:"nutrientNumber"`
			UnitName       string  `json:"unitName"`
			Value          float64 `json:"value"`
		} `json:"foodNutrients"`
	} `json:"foods"`
}

// foodResponse is what a FoodData Central client reads from a food.
type foodResponse struct {
	FdcID         int    `json:"fdcId"`
	Description   string `json:"description"`
	DataType      string `json:"dataType"`
	FoodNutrients []struct {
		Nutrient struct {
			ID       int    `json:"id"`
			Number   string `json:"number"`
			Name     string `json:"name"`
			UnitName string `json:"unitName"`
		} `json:"nutrient"`
		Amount float64 `json:"amount"`
	} `json:"foodNutrients"`
	FoodPortions []struct {
		Amount             float64 `json:"amount"`
		GramWeight         float64 `json:"gramWeight"`
		Modifier           string  `json:"modifier"`
		PortionDescription string  `json:"portionDescription"`
	} `json:"foodPortions"`
}

func TestUSDASearch(t *testing.T) {
	ts := newTestServer(t, Config{USDAKey: "usda-key"})
	data, _ := testsr24.Load()
	want, _ := data.Food("05064")

	res := ts.get(t, "/fdc/v1/foods/search?api_key=usda-key&query=chicken+breast&pageSize=5")
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	var got searchResponse
	decodeJSON(t, res.body, &got)
	if len(got.Foods) != 5 || got.TotalHits < 5 || got.CurrentPage != 1 || got.TotalPages != (got.TotalHits+4)/5 {
		t.Fatalf("%d foods, totalHits %d, page %d of %d", len(got.Foods), got.TotalHits, got.CurrentPage, got.TotalPages)
	}
	first := got.Foods[0]
	if first.FdcID != 5064 || first.Description != want.Description || first.DataType != "SR Legacy" {
		t.Fatalf("first food %d %q %q, want 5064 %q SR Legacy", first.FdcID, first.Description, first.DataType, want.Description)
	}
	byNumber := map[string]float64{}
	for _, n := range first.FoodNutrients {
		byNumber[n.NutrientNumber] = n.Value
		if n.NutrientNumber == "208" && (n.UnitName != "KCAL" || n.NutrientID != 1008 || n.NutrientName != "Energy") {
			t.Errorf("energy nutrient %+v", n)
		}
	}
	if byNumber["208"] != 165 || byNumber["203"] != want.Per100g.ProteinG || byNumber["204"] != want.Per100g.FatG || byNumber["307"] != want.Per100g.SodiumMg {
		t.Errorf("nutrients %v, want 165 kcal and %+v", byNumber, want.Per100g)
	}

	t.Run("pages", func(t *testing.T) {
		res := ts.get(t, "/fdc/v1/foods/search?api_key=usda-key&query=chicken+breast&pageSize=5&pageNumber=2")
		var page2 searchResponse
		decodeJSON(t, res.body, &page2)
		if page2.CurrentPage != 2 || len(page2.Foods) == 0 || page2.Foods[0].FdcID == first.FdcID || page2.TotalHits != got.TotalHits {
			t.Errorf("page 2: %+v", page2)
		}
	})
	t.Run("other data types only", func(t *testing.T) {
		res := ts.get(t, "/fdc/v1/foods/search?api_key=usda-key&query=chicken&dataType=Branded")
		var none searchResponse
		decodeJSON(t, res.body, &none)
		if res.status != http.StatusOK || none.TotalHits != 0 || len(none.Foods) != 0 {
			t.Errorf("status %d, %+v", res.status, none)
		}
	})
}

func TestUSDAFood(t *testing.T) {
	ts := newTestServer(t, Config{})
	res := ts.get(t, "/fdc/v1/food/5064?api_key=anything")
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	var got foodResponse
	decodeJSON(t, res.body, &got)
	amounts := map[string]float64{}
	for _, n := range got.FoodNutrients {
		amounts[n.Nutrient.Number] = n.Amount
		if n.Nutrient.Number == "208" && (n.Nutrient.UnitName != "kcal" || n.Nutrient.ID != 1008) {
			t.Errorf("energy nutrient %+v", n.Nutrient)
		}
	}
	if got.FdcID != 5064 || got.DataType != "SR Legacy" || amounts["208"] != 165 {
		t.Errorf("fdcId %d dataType %q energy %v, want 5064 SR Legacy 165", got.FdcID, got.DataType, amounts["208"])
	}
	data, _ := testsr24.Load()
	food, _ := data.Food("05064")
	if len(got.FoodPortions) != len(food.Portions) || len(food.Portions) == 0 {
		t.Fatalf("%d portions, want %d", len(got.FoodPortions), len(food.Portions))
	}
	p := got.FoodPortions[0]
	if p.GramWeight != food.Portions[0].Grams || p.PortionDescription != food.Portions[0].Description || !strings.HasSuffix(food.Portions[0].Description, p.Modifier) {
		t.Errorf("portion %+v, want %+v", p, food.Portions[0])
	}

	t.Run("abridged, some nutrients", func(t *testing.T) {
		res := ts.get(t, "/fdc/v1/food/5064?format=abridged&nutrients=208,203")
		var abridged struct {
			FoodNutrients []struct {
				Number string  `json:"number"`
				Amount float64 `json:"amount"`
			} `json:"foodNutrients"`
		}
		decodeJSON(t, res.body, &abridged)
		if len(abridged.FoodNutrients) != 2 || abridged.FoodNutrients[0].Number != "208" || abridged.FoodNutrients[0].Amount != 165 {
			t.Errorf("abridged %s", res.body)
		}
	})

	errs := []struct {
		name, path string
		status     int
		wantBody   string
	}{
		{"unknown food", "/fdc/v1/food/99999", 404, `"status":404`},
		{"zero id", "/fdc/v1/food/0", 404, `"path":"/fdc/v1/food/0"`},
		{"not a number", "/fdc/v1/food/chicken", 400, `fdcId: \"chicken\" is not an integer`},
		{"bad format", "/fdc/v1/food/5064?format=tiny", 400, "format"},
		{"search without query", "/fdc/v1/foods/search", 400, "query"},
		{"page size too large", "/fdc/v1/foods/search?query=egg&pageSize=1000", 400, "pageSize"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			res := ts.get(t, tt.path)
			if res.status != tt.status || !strings.Contains(string(res.body), tt.wantBody) {
				t.Errorf("status %d body %s, want %d with %s", res.status, res.body, tt.status, tt.wantBody)
			}
		})
	}
}

func TestUSDAErrorBodies(t *testing.T) {
	const (
		invalidKey = `{"error":{"code":"API_KEY_INVALID","message":"An invalid api_key was supplied. Get one at https://api.nal.usda.gov:443"}}`
		missingKey = `{"error":{"code":"API_KEY_MISSING","message":"No api_key was supplied. Get one at https://api.nal.usda.gov:443"}}`
		overLimit  = `{"error":{"code":"OVER_RATE_LIMIT","message":"You have exceeded your rate limit. Try again later or contact us at https://api.nal.usda.gov:443/contact/ for assistance"}}`
	)
	keyed := newTestServer(t, Config{USDAKey: "right"})
	limited := newTestServer(t, Config{Faults: map[Upstream]Fault{USDA: {ErrorRate: 1, ErrorStatus: 429}}})
	tests := []struct {
		name   string
		ts     *testServer
		path   string
		status int
		body   string
	}{
		{"wrong key", keyed, "/fdc/v1/foods/search?api_key=wrong&query=egg", 403, invalidKey},
		{"wrong key on a food", keyed, "/fdc/v1/food/5064?api_key=wrong", 403, invalidKey},
		{"no key", keyed, "/fdc/v1/foods/search?query=egg", 403, missingKey},
		{"rate limited", limited, "/fdc/v1/foods/search?api_key=x&query=egg", 429, overLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.ts.get(t, tt.path)
			if res.status != tt.status || string(res.body) != tt.body {
				t.Errorf("status %d body\n%s\nwant %d\n%s", res.status, res.body, tt.status, tt.body)
			}
		})
	}
	t.Run("key in the X-Api-Key header", func(t *testing.T) {
		res := keyed.do(context.Background(), t, http.MethodGet, "/fdc/v1/food/5064", "", map[string]string{"X-Api-Key": "right"})
		if res.status != http.StatusOK {
			t.Errorf("status %d: %s", res.status, res.body)
		}
	})
}

func TestWebSearch(t *testing.T) {
	ts := newTestServer(t, Config{})
	res := ts.get(t, "/web/nutrition?q=chicken+breast&limit=3")
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	var got struct {
		Results []webResult `json:"results"`
	}
	decodeJSON(t, res.body, &got)
	if len(got.Results) != 3 {
		t.Fatalf("%d results, want 3", len(got.Results))
	}
	data, _ := testsr24.Load()
	food, _ := data.Food("05064")
	first := got.Results[0]
	if first.Name != food.Description || first.KcalPer100g != 170 || first.ProteinG != 31 || first.FatG != 3.5 || !strings.HasSuffix(first.SourceURL, "/05064") {
		t.Errorf("first result %+v, want chicken breast at 170 kcal, 31 g protein, 3.5 g fat (label rounding of %+v)", first, food.Per100g)
	}

	for _, tt := range []struct{ name, path, want string }{
		{"no query", "/web/nutrition", "q: a search term is required"},
		{"bad limit", "/web/nutrition?q=egg&limit=0", "limit:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := ts.get(t, tt.path)
			if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), tt.want) {
				t.Errorf("status %d body %s", res.status, res.body)
			}
		})
	}
}

func TestLabelRounding(t *testing.T) {
	tests := []struct {
		name string
		f    func(float64) float64
		in   float64
		want float64
	}{
		{"calories below 5", labelCalories, 4.9, 0},
		{"calories to 5", labelCalories, 47, 45},
		{"calories to 10", labelCalories, 165, 170},
		{"fat below 0.5", labelFat, 0.4, 0},
		{"fat to 0.5", labelFat, 3.57, 3.5},
		{"fat to 1", labelFat, 13.4, 13},
		{"grams below 0.5", labelGrams, 0.3, 0},
		{"grams to 1", labelGrams, 31.02, 31},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f(tt.in); got != tt.want {
				t.Errorf("%v gives %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// The search speaks FoodData Central's field types (ndbNumber an integer)
// and honours requireAllWords, as the real API does.
func TestUSDASearchFieldTypesAndRequireAllWords(t *testing.T) {
	ts := newTestServer(t, Config{})
	res := ts.get(t, "/fdc/v1/foods/search?query=chicken+breast&pageSize=3&dataType=Foundation,SR%20Legacy,Survey%20(FNDDS)")
	var raw struct {
		Foods []map[string]json.RawMessage `json:"foods"`
	}
	decodeJSON(t, res.body, &raw)
	if len(raw.Foods) == 0 || string(raw.Foods[0]["ndbNumber"]) != "5064" {
		t.Fatalf("ndbNumber %s, want the JSON number 5064", raw.Foods[0]["ndbNumber"])
	}
	food := ts.get(t, "/fdc/v1/food/5064")
	var detail map[string]json.RawMessage
	decodeJSON(t, food.body, &detail)
	if string(detail["ndbNumber"]) != "5064" {
		t.Fatalf("food ndbNumber %s, want 5064", detail["ndbNumber"])
	}
	for _, tt := range []struct {
		query string
		min   int
	}{{"rice cooked white", 1}, {"zorblax rice", 0}} {
		var got searchResponse
		decodeJSON(t, ts.get(t, "/fdc/v1/foods/search?requireAllWords=true&pageSize=200&query="+url.QueryEscape(tt.query)).body, &got)
		if len(got.Foods) < tt.min || tt.min == 0 && len(got.Foods) != 0 {
			t.Fatalf("%q: %d foods, want at least %d", tt.query, len(got.Foods), tt.min)
		}
		for _, f := range got.Foods {
			d := strings.ToLower(f.Description)
			for _, w := range strings.Fields(tt.query) {
				if !strings.Contains(d, w) {
					t.Errorf("%q with requireAllWords: %q lacks %q", tt.query, f.Description, w)
				}
			}
		}
	}
	if res := ts.get(t, "/fdc/v1/foods/search?query=rice&requireAllWords=maybe"); res.status != http.StatusBadRequest {
		t.Errorf("requireAllWords=maybe: status %d, want 400", res.status)
	}
}
