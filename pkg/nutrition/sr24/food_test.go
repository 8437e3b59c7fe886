package sr24

import "testing"

func TestNutrientsValuesFollowTheNutrients(t *testing.T) {
	n := Nutrients{EnergyKcal: 1, ProteinG: 2, CarbohydrateG: 3, FatG: 4, FiberG: 5, SodiumMg: 6}
	v := n.Values()
	for i, want := range []float64{1, 2, 3, 4, 5, 6} {
		if v[i] != want {
			t.Errorf("Values()[%d] (%s) = %v, want %v", i, Nutrient(i), v[i], want)
		}
	}
}
