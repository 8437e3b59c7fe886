package usda_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/healthagent/resilience/pkg/nutrition/usda"
	"github.com/healthagent/resilience/pkg/retry"
)

func ExampleDecodeSearch() {
	body := []byte(`{"totalHits": 1, "foods": [{
		"fdcId": 171477,
		"description": "Chicken, broilers or fryers, breast, meat only, cooked, roasted",
		"dataType": "SR Legacy",
		"foodNutrients": [
			{"nutrientNumber": "208", "nutrientName": "Energy", "unitName": "KCAL", "value": 165},
			{"nutrientNumber": "203", "nutrientName": "Protein", "unitName": "G", "value": 31.02},
			{"nutrientNumber": "307", "nutrientName": "Sodium, Na", "unitName": "MG", "value": 74}
		]}]}`)
	foods, err := usda.DecodeSearch(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	chicken := foods[0]
	in150g := chicken.Per100g.Scale(150)
	fmt.Printf("FDC %s: %.0f kcal, %.1f g protein in 150 g\n", chicken.ID, in150g.EnergyKcal, in150g.ProteinG)
	fmt.Println("unknown:", chicken.Unknown)

	_, err = usda.DecodeSearch([]byte(`{"foods": [{"fdcId": 171477, "desc`))
	fmt.Println(err)
	// Output:
	// FDC 171477: 248 kcal, 46.5 g protein in 150 g
	// unknown: {carbohydrate_g fat_g fiber_g}
	// usda: decode search response: unexpected end of JSON input
}

func ExampleClient_Search() {
	// A stand-in for FoodData Central: rate-limiting first, then answering.
	body, _ := os.ReadFile(filepath.Join("testdata", "search_chicken_breast.json"))
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"error":{"code":"OVER_RATE_LIMIT","message":"You have exceeded your rate limit."}}`)
			return
		}
		w.Write(body)
	}))
	defer srv.Close()

	client, err := usda.New(usda.Config{APIKey: "DEMO_KEY", BaseURL: srv.URL})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	_, err = client.Search(ctx, "chicken breast")
	fmt.Println(err)
	fmt.Println("retry it?", retry.DefaultRetryable(err))

	r, err := client.Search(ctx, "chicken breast")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s (FDC %s): %.0f kcal per 100 g\n", r.Description, r.ID, r.Per100g.EnergyKcal)
	// Output:
	// usda: search: status 429 OVER_RATE_LIMIT: You have exceeded your rate limit.
	// retry it? true
	// Chicken, broilers or fryers, breast, meat only, cooked, roasted (FDC 171477): 165 kcal per 100 g
}
