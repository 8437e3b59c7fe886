package nutrition_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// A chain of the embedded data alone: it knows chicken breast, and a name
// nobody knows gets the average dish, flagged degraded.
func ExampleNewChain() {
	data, err := sr24.Load()
	if err != nil {
		panic(err)
	}
	lookup, err := nutrition.NewChain("nutrition", []nutrition.Step{nutrition.EmbeddedStep(data)}, nutrition.ChainConfig{},
		nutrition.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	for _, name := range []string{"chicken breast", "zorblax stew"} {
		ans, err := lookup.Find(context.Background(), name)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: %.0f kcal in 150 g, from %s (%s)\n", name, ans.Per100g.Scale(150).EnergyKcal, ans.Step, ans.From)
	}
	_, err = lookup.Lookup(context.Background(), nutrition.Query{Name: "zorblax stew", Strict: true})
	fmt.Println(err != nil)
	// Output:
	// chicken breast: 248 kcal in 150 g, from embedded (local_cache)
	// zorblax stew: 225 kcal in 150 g, from average_dish (estimate)
	// true
}
