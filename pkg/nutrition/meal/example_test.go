package meal_test

import (
	"fmt"

	"github.com/healthagent/resilience/pkg/nutrition/meal"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

func ExampleParser_Parse() {
	data, err := sr24.Load()
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := meal.New(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	items, err := p.Parse("2 large eggs, half an avocado and 200 ml orange juice")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, it := range items {
		fmt.Printf("%s: %.0f g of %s (%s)\n", it.Name, it.Grams, it.Food, it.Portion)
	}
	_, err = p.Parse("-5 g rice")
	fmt.Println(err)
	// Output:
	// eggs: 100 g of Egg, whole, cooked, hard-boiled (2 × "1 large" (50 g))
	// avocado: 100 g of Avocados, raw, all commercial varieties (0.5 × "1 avocado, NS as to Florida or California" (201 g))
	// orange juice: 210 g of Orange juice, chilled, includes from concentrate (200 ml × 1.05 g/ml ("1 cup" = 249 g))
	// meal: "-5": the amount must be more than 0
}
