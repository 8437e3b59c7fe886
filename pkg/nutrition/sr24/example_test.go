package sr24_test

import (
	"errors"
	"fmt"

	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

func ExampleDataset_Lookup() {
	data, err := sr24.Load()
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := data.Lookup("chicken breast")
	if err != nil {
		fmt.Println(err)
		return
	}
	per150g := m.Food.Per100g.Scale(150)
	fmt.Printf("%s (NDB %s), found by %s\n", m.Food.Description, m.Food.NDB, m.How)
	fmt.Printf("100 g: %.0f kcal, %.1f g protein\n", m.Food.Per100g.EnergyKcal, m.Food.Per100g.ProteinG)
	fmt.Printf("150 g: %.1f kcal, %.1f g protein\n", per150g.EnergyKcal, per150g.ProteinG)

	_, err = data.Lookup("qwertyuiop")
	fmt.Println(errors.Is(err, sr24.ErrNotFound))
	// Output:
	// Chicken, broilers or fryers, breast, meat only, cooked, roasted (NDB 05064), found by alias
	// 100 g: 165 kcal, 31.0 g protein
	// 150 g: 247.5 kcal, 46.5 g protein
	// true
}

func ExampleDataset_Search() {
	data, err := sr24.Load()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range data.Search("salmon", 3) {
		fmt.Printf("%s %-10s %.2f %s\n", m.Food.NDB, m.How, m.Score, m.Food.Description)
	}
	// Output:
	// 15237 alias      1.00 Fish, salmon, Atlantic, farmed, cooked, dry heat
	// 15236 similar    0.82 Fish, salmon, Atlantic, farmed, raw
	// 15209 similar    0.79 Fish, salmon, Atlantic, wild, cooked, dry heat
}

func ExampleNormalize() {
	for _, name := range []string{"Chicken Breasts", "eggs,", "Tomatoes", "hummus", "Jalapeño  peppers"} {
		fmt.Printf("%q\n", sr24.Normalize(name))
	}
	// Output:
	// "chicken breast"
	// "egg"
	// "tomato"
	// "hummus"
	// "jalapeno pepper"
}

func ExampleFood_Portions() {
	data, err := sr24.Load()
	if err != nil {
		fmt.Println(err)
		return
	}
	egg, _ := data.Food("01129")
	for _, p := range egg.Portions {
		fmt.Printf("%s: %g g, %.0f kcal\n", p.Description, p.Grams, egg.Per100g.Scale(p.Grams).EnergyKcal)
	}
	// Output:
	// 1 cup, chopped: 136 g, 211 kcal
	// 1 tbsp: 8.5 g, 13 kcal
	// 1 large: 50 g, 78 kcal
}
