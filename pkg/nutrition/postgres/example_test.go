package nutrition_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/healthagent/resilience/internal/testpg"
	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
	"github.com/healthagent/resilience/pkg/retry"
)

func ExampleDecodeUSDASearch() {
	body := []byte(`{"totalHits": 1, "foods": [{
		"fdcId": 171477,
		"description": "Chicken, broilers or fryers, breast, meat only, cooked, roasted",
		"dataType": "SR Legacy",
		"foodNutrients": [
			{"nutrientNumber": "208", "nutrientName": "Energy", "unitName": "KCAL", "value": 165},
			{"nutrientNumber": "203", "nutrientName": "Protein", "unitName": "G", "value": 31.02},
			{"nutrientNumber": "307", "nutrientName": "Sodium, Na", "unitName": "MG", "value": 74}
		]}]}`)
	foods, err := nutrition.DecodeUSDASearch(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	chicken := foods[0]
	in150g := chicken.Per100g.Scale(150)
	fmt.Printf("FDC %s: %.0f kcal, %.1f g protein in 150 g\n", chicken.ID, in150g.EnergyKcal, in150g.ProteinG)
	fmt.Println("unknown:", chicken.Unknown)

	_, err = nutrition.DecodeUSDASearch([]byte(`{"foods": [{"fdcId": 171477, "desc`))
	fmt.Println(err)
	// Output:
	// FDC 171477: 248 kcal, 46.5 g protein in 150 g
	// unknown: {carbohydrate_g fat_g fiber_g}
	// nutrition: usda: decode search response: unexpected end of JSON input
}

func ExampleUSDAClient_Search() {
	// A stand-in for FoodData Central: rate-limiting first, then answering.
	body, _ := os.ReadFile(filepath.Join("testdata", "usda", "search_chicken_breast.json"))
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

	usda, err := nutrition.NewUSDAClient(nutrition.USDAConfig{APIKey: "DEMO_KEY", BaseURL: srv.URL})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	_, err = usda.Search(ctx, "chicken breast")
	fmt.Println(err)
	fmt.Println("retry it?", retry.DefaultRetryable(err))

	r, err := usda.Search(ctx, "chicken breast")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s (FDC %s): %.0f kcal per 100 g\n", r.Description, r.ID, r.Per100g.EnergyKcal)
	// Output:
	// nutrition: usda: search: status 429 OVER_RATE_LIMIT: You have exceeded your rate limit.
	// retry it? true
	// Chicken, broilers or fryers, breast, meat only, cooked, roasted (FDC 171477): 165 kcal per 100 g
}

// Example shows the store answering while USDA is down: SR24 foods by
// alias, normalised name or similarity, and an earlier USDA answer written
// through to the cache. It needs the PostgreSQL server of the tests.
func Example() {
	db, schema, cleanup, err := exampleSchema()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cleanup()
	ctx := context.Background()

	store, err := nutrition.NewStore(db, nutrition.Config{Schema: schema})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	data, err := sr24.Load()
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := store.Migrate(ctx); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := store.Seed(ctx, data); err != nil {
		fmt.Println(err)
		return
	}
	// A USDA answer from before the outage, written through.
	err = store.SaveAnswer(ctx, nutrition.Result{Query: "Big Kahuna Burger", Source: nutrition.SourceUSDA, ID: "2345678",
		Description: "BIG KAHUNA, burger", Per100g: sr24.Nutrients{EnergyKcal: 250}})
	if err != nil {
		fmt.Println(err)
		return
	}

	for _, name := range []string{"chicken breast", "Chicken Breasts", "roasted chiken", "big kahuna burgers", "qqqq zzzz"} {
		r, err := store.Lookup(ctx, name)
		if errors.Is(err, nutrition.ErrNotFound) {
			fmt.Printf("%-20s not found: try the next source\n", name)
			continue
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%-20s %-10s %-5s %3.0f kcal in 150 g\n", name, r.How, r.Source, r.Per100g.Scale(150).EnergyKcal)
	}
	// Output:
	// chicken breast       alias      sr24  248 kcal in 150 g
	// Chicken Breasts      normalized sr24  248 kcal in 150 g
	// roasted chiken       similar    sr24  248 kcal in 150 g
	// big kahuna burgers   cached     usda  375 kcal in 150 g
	// qqqq zzzz            not found: try the next source
}

// exampleSchema connects to the test database (DATABASE_URL, else the
// local server) and creates a schema for one example, dropped by cleanup.
func exampleSchema() (db *sqlx.DB, schema string, cleanup func(), err error) {
	db, err = sqlx.Open("postgres", testpg.DSN())
	if err != nil {
		return nil, "", nil, err
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, "", nil, err
	}
	schema = "example_" + hex.EncodeToString(b[:])
	cleanup = func() {
		_, _ = db.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
		db.Close()
	}
	return db, schema, cleanup, nil
}
