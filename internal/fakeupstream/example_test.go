package fakeupstream_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/healthagent/resilience/internal/fakeupstream"
)

// Start the server, make USDA fail over the admin API, then heal it.
func Example() {
	srv, err := fakeupstream.New(fakeupstream.Config{Seed: 1, USDAKey: "DEMO_KEY"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	usda := fakeupstream.EndpointsAt(ts.URL).USDA

	resp, err := http.Post(ts.URL+"/admin/faults", "application/json",
		strings.NewReader(`{"usda": {"outage": "error", "error_status": 429, "retry_after": "30s"}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()

	resp, err = http.Get(usda + "/food/5064?api_key=DEMO_KEY")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Retry-After"), string(body))

	srv.ResetFaults()
	resp, err = http.Get(usda + "/food/5064?api_key=DEMO_KEY")
	if err != nil {
		fmt.Println(err)
		return
	}
	var food struct {
		Description   string `json:"description"`
		FoodNutrients []struct {
			Nutrient struct {
				Number string `json:"number"`
			} `json:"nutrient"`
			Amount float64 `json:"amount"`
		} `json:"foodNutrients"`
	}
	err = json.NewDecoder(resp.Body).Decode(&food)
	resp.Body.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.StatusCode, food.Description)
	fmt.Println(food.FoodNutrients[0].Nutrient.Number, food.FoodNutrients[0].Amount, "kcal per 100 g")

	stats := srv.Stats()[fakeupstream.USDA]
	fmt.Printf("requests %d, ok %d, errors injected %d\n", stats.Requests, stats.OK, stats.Faults.Error)
	// Output:
	// 429 30 {"error":{"code":"OVER_RATE_LIMIT","message":"You have exceeded your rate limit. Try again later or contact us at https://api.nal.usda.gov:443/contact/ for assistance"}}
	// 200 Chicken, broilers or fryers, breast, meat only, cooked, roasted
	// 208 165 kcal per 100 g
	// requests 2, ok 1, errors injected 1
}

// A seeded fault gives the same fates in the same order on every run.
func ExampleServer_SetFault() {
	srv, err := fakeupstream.New(fakeupstream.Config{Seed: 7})
	if err != nil {
		fmt.Println(err)
		return
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	pattern := func() string {
		var b strings.Builder
		for range 16 {
			resp, err := http.Get(ts.URL + "/web/nutrition?q=banana")
			if err != nil {
				fmt.Println(err)
				return ""
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				b.WriteByte('.')
			} else {
				b.WriteByte('x')
			}
		}
		return b.String()
	}
	if err := srv.SetFault(fakeupstream.Web, fakeupstream.Fault{ErrorRate: 0.5}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pattern())
	_ = srv.SetFault(fakeupstream.Web, fakeupstream.Fault{ErrorRate: 0.5}) // restarts the sequence
	fmt.Println(pattern())
	stats := srv.Stats()[fakeupstream.Web]
	fmt.Println(stats.Requests, stats.OK, stats.Faults.Error)
	// Output:
	// xxx......x..x...
	// xxx......x..x...
	// 32 22 10
}
