package usda

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// DecodeError is a FoodData Central response body that is not what was
// asked for: malformed or truncated JSON, or JSON without the expected
// fields. It unwraps to the JSON error, if any.
type DecodeError struct {
	// What names the body: "search response" or "food response".
	What string
	Err  error
}

func (e *DecodeError) Error() string {
	return "usda: decode " + e.What + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }

// BadResponse reports true: FoodData Central answered with a success
// status but not with what was asked for, a failure of the upstream that
// package chain labels "bad_response" (chain.BadResponse).
func (e *DecodeError) BadResponse() bool { return true }

// usdaNutrientNumber is a nutrient number, a JSON string ("208") in
// FoodData Central's responses; a bare number is accepted too.
type usdaNutrientNumber string

func (n *usdaNutrientNumber) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*n = usdaNutrientNumber(strings.TrimSpace(s))
		return nil
	}
	var f json.Number
	if err := json.Unmarshal(b, &f); err != nil {
		return errors.New("nutrient number is neither a string nor a number")
	}
	*n = usdaNutrientNumber(f.String())
	return nil
}

// usdaNDBNumber is a food's NDB number, an integer in FoodData Central's
// responses (5064); a string is accepted too. It reads as the five digits
// of SR24 ("05064"), or "" when absent.
type usdaNDBNumber string

func (n *usdaNDBNumber) UnmarshalJSON(b []byte) error {
	var num json.Number
	if err := json.Unmarshal(b, &num); err != nil {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return errors.New("ndbNumber is neither a number nor a string")
		}
		num = json.Number(strings.TrimSpace(s))
	}
	if num == "" {
		*n = ""
		return nil
	}
	v, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil || v <= 0 || v > 99999 {
		*n = "" // not an SR number: a Survey food code or garbage
		return nil
	}
	*n = usdaNDBNumber(fmt.Sprintf("%05d", v))
	return nil
}

// usdaSearchResponse is the part of GET /fdc/v1/foods/search used here.
type usdaSearchResponse struct {
	Foods *[]struct {
		FDCID         int64         `json:"fdcId"`
		Description   string        `json:"description"`
		DataType      string        `json:"dataType"`
		NDBNumber     usdaNDBNumber `json:"ndbNumber"`
		FoodNutrients []struct {
			NutrientNumber usdaNutrientNumber `json:"nutrientNumber"`
			UnitName       string             `json:"unitName"`
			Value          *float64           `json:"value"`
		} `json:"foodNutrients"`
	} `json:"foods"`
}

// usdaFoodResponse is the part of GET /fdc/v1/food/{fdcId} used here.
type usdaFoodResponse struct {
	FDCID         int64         `json:"fdcId"`
	Description   string        `json:"description"`
	DataType      string        `json:"dataType"`
	NDBNumber     usdaNDBNumber `json:"ndbNumber"`
	FoodNutrients []struct {
		Nutrient struct {
			Number   usdaNutrientNumber `json:"number"`
			UnitName string             `json:"unitName"`
		} `json:"nutrient"`
		Amount *float64 `json:"amount"`
	} `json:"foodNutrients"`
}

// DecodeSearch decodes the body of a FoodData Central search
// (GET /fdc/v1/foods/search) into one nutrition.Result per food, in USDA's order,
// with Source, ID (the FDC id), Description, DataType, NDB (the integer
// ndbNumber of Foundation and SR Legacy foods, as five digits), Per100g and
// Unknown set. Each food's foodNutrients give the nutrients by
// nutrientNumber: 208 energy (kcal; else 958 or 957, the Atwater energies,
// else 268 in kJ), 203 protein, 205 carbohydrate (else 205.2, by
// summation, as Foundation foods give it), 204 fat, 291 fiber, 307 sodium,
// converted from their unitName (G, MG, UG; KCAL, kJ). Nutrients missing,
// null, negative or in an unknown unit are Unknown, never 0. A body that is
// not a search response gives a *DecodeError; it never panics.
func DecodeSearch(body []byte) ([]nutrition.Result, error) {
	var resp usdaSearchResponse
	if err := decodeJSON(body, &resp); err != nil {
		return nil, &DecodeError{What: "search response", Err: err}
	}
	if resp.Foods == nil {
		return nil, &DecodeError{What: "search response", Err: errors.New(`no "foods" list`)}
	}
	out := make([]nutrition.Result, 0, len(*resp.Foods))
	for i, f := range *resp.Foods {
		if f.FDCID <= 0 || strings.TrimSpace(f.Description) == "" {
			return nil, &DecodeError{What: "search response", Err: errors.New("food " + strconv.Itoa(i) + " has no fdcId or no description")}
		}
		var acc nutrientAccumulator
		for _, n := range f.FoodNutrients {
			acc.add(string(n.NutrientNumber), n.UnitName, n.Value)
		}
		r := nutrition.Result{Source: nutrition.SourceUSDA, ID: strconv.FormatInt(f.FDCID, 10), Description: f.Description, DataType: f.DataType, NDB: string(f.NDBNumber)}
		r.Per100g, r.Unknown = acc.result()
		out = append(out, r)
	}
	return out, nil
}

// DecodeFood decodes the body of GET /fdc/v1/food/{fdcId} as
// DecodeSearch decodes one food of a search, reading each of
// foodNutrients' nutrient.number, nutrient.unitName and amount.
func DecodeFood(body []byte) (nutrition.Result, error) {
	var f usdaFoodResponse
	if err := decodeJSON(body, &f); err != nil {
		return nutrition.Result{}, &DecodeError{What: "food response", Err: err}
	}
	if f.FDCID <= 0 || strings.TrimSpace(f.Description) == "" {
		return nutrition.Result{}, &DecodeError{What: "food response", Err: errors.New("no fdcId or no description")}
	}
	var acc nutrientAccumulator
	for _, n := range f.FoodNutrients {
		acc.add(string(n.Nutrient.Number), n.Nutrient.UnitName, n.Amount)
	}
	r := nutrition.Result{Source: nutrition.SourceUSDA, ID: strconv.FormatInt(f.FDCID, 10), Description: f.Description, DataType: f.DataType, NDB: string(f.NDBNumber)}
	r.Per100g, r.Unknown = acc.result()
	return r, nil
}

// decodeJSON decodes one JSON value filling all of body.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("empty body")
	}
	return json.Unmarshal(body, v)
}

// usdaNutrient says which field a FoodData Central nutrient number fills,
// in which unit, and how much it is preferred over other numbers for the
// same field (lower is better).
type usdaNutrient struct {
	field sr24.Nutrient
	unit  string // "kcal", "g" or "mg": the unit of the field
	rank  int
}

// usdaNutrientOf maps a FoodData Central nutrient number to its field.
func usdaNutrientOf(number string) (usdaNutrient, bool) {
	switch number {
	case "208":
		return usdaNutrient{sr24.Energy, "kcal", 0}, true
	case "958": // Atwater specific factors (Foundation foods)
		return usdaNutrient{sr24.Energy, "kcal", 1}, true
	case "957": // Atwater general factors
		return usdaNutrient{sr24.Energy, "kcal", 2}, true
	case "268": // energy in kJ
		return usdaNutrient{sr24.Energy, "kcal", 3}, true
	case "203":
		return usdaNutrient{sr24.Protein, "g", 0}, true
	case "205":
		return usdaNutrient{sr24.Carbohydrate, "g", 0}, true
	case "205.2": // carbohydrate by summation (Foundation foods)
		return usdaNutrient{sr24.Carbohydrate, "g", 1}, true
	case "204":
		return usdaNutrient{sr24.Fat, "g", 0}, true
	case "291":
		return usdaNutrient{sr24.Fiber, "g", 0}, true
	case "307":
		return usdaNutrient{sr24.Sodium, "mg", 0}, true
	}
	return usdaNutrient{}, false
}

// nutrientAccumulator collects a food's nutrients, keeping for each field
// the value of the best-ranked number.
type nutrientAccumulator struct {
	vals  [6]float64
	ranks [6]int // rank+1 of the value held; 0 when none
}

func (a *nutrientAccumulator) add(number, unit string, value *float64) {
	n, ok := usdaNutrientOf(number)
	if !ok || value == nil {
		return
	}
	v, ok := convertUnit(*value, unit, n.unit)
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return
	}
	i := int(n.field)
	if a.ranks[i] == 0 || n.rank+1 < a.ranks[i] {
		a.vals[i], a.ranks[i] = v, n.rank+1
	}
}

func (a *nutrientAccumulator) result() (sr24.Nutrients, sr24.NutrientSet) {
	var unknown sr24.NutrientSet
	for i, r := range a.ranks {
		if r == 0 {
			unknown = unknown.With(sr24.Nutrient(i))
		}
	}
	v := a.vals
	return sr24.Nutrients{EnergyKcal: v[0], ProteinG: v[1], CarbohydrateG: v[2], FatG: v[3], FiberG: v[4], SodiumMg: v[5]}, unknown
}

// convertUnit converts value from FoodData Central's unitName to want
// ("kcal", "g" or "mg"); ok is false for a unit that does not convert.
func convertUnit(value float64, unitName, want string) (float64, bool) {
	unit := strings.ToLower(strings.TrimSpace(unitName))
	if want == "kcal" {
		switch unit {
		case "kcal":
			return value, true
		case "kj":
			return value / 4.184, true
		}
		return 0, false
	}
	from, ok := gramsPer(unit)
	to, _ := gramsPer(want)
	if !ok {
		return 0, false
	}
	return value * from / to, true
}

// gramsPer returns the grams in one of a mass unit.
func gramsPer(unit string) (float64, bool) {
	switch unit {
	case "g":
		return 1, true
	case "mg":
		return 1e-3, true
	case "ug", "µg", "μg":
		return 1e-6, true
	}
	return 0, false
}
