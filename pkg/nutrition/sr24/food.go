package sr24

import (
	"strconv"
	"strings"
)

// Nutrients holds the six nutrients the dataset keeps. In Food.Per100g they
// are amounts per 100 g of the food, as in the source.
type Nutrients struct {
	EnergyKcal    float64
	ProteinG      float64
	CarbohydrateG float64 // total carbohydrate, by difference
	FatG          float64 // total lipid
	FiberG        float64 // total dietary fiber
	SodiumMg      float64
}

// Scale returns the nutrients in grams of a food whose amounts per 100 g
// are n: Per100g.Scale(150) is what 150 g contain.
func (n Nutrients) Scale(grams float64) Nutrients {
	f := grams / 100
	return Nutrients{
		EnergyKcal:    n.EnergyKcal * f,
		ProteinG:      n.ProteinG * f,
		CarbohydrateG: n.CarbohydrateG * f,
		FatG:          n.FatG * f,
		FiberG:        n.FiberG * f,
		SodiumMg:      n.SodiumMg * f,
	}
}

// Add returns the sum of two sets of nutrients: the nutrients of a meal
// are the sum of its foods'.
func (n Nutrients) Add(o Nutrients) Nutrients {
	return Nutrients{
		EnergyKcal:    n.EnergyKcal + o.EnergyKcal,
		ProteinG:      n.ProteinG + o.ProteinG,
		CarbohydrateG: n.CarbohydrateG + o.CarbohydrateG,
		FatG:          n.FatG + o.FatG,
		FiberG:        n.FiberG + o.FiberG,
		SodiumMg:      n.SodiumMg + o.SodiumMg,
	}
}

// Values returns the amounts in the order of the Nutrient constants.
func (n Nutrients) Values() [nutrientCount]float64 {
	return [nutrientCount]float64{n.EnergyKcal, n.ProteinG, n.CarbohydrateG, n.FatG, n.FiberG, n.SodiumMg}
}

// Nutrient names one field of Nutrients.
type Nutrient uint8

// The nutrients, in the order of the fields of Nutrients.
const (
	Energy Nutrient = iota
	Protein
	Carbohydrate
	Fat
	Fiber
	Sodium
	nutrientCount
)

// nutrientColumns are the names of the nutrients' columns in foods.csv.gz.
var nutrientColumns = [nutrientCount]string{"energy_kcal", "protein_g", "carbohydrate_g", "fat_g", "fiber_g", "sodium_mg"}

// String returns the nutrient's column name in the data files, with its
// unit: "energy_kcal", "protein_g", "carbohydrate_g", "fat_g", "fiber_g" or
// "sodium_mg".
func (n Nutrient) String() string {
	if n < nutrientCount {
		return nutrientColumns[n]
	}
	return "nutrient(" + strconv.Itoa(int(n)) + ")"
}

// NutrientSet is a set of nutrients. The zero value is empty.
type NutrientSet uint8

// Has reports whether n is in the set.
func (s NutrientSet) Has(n Nutrient) bool {
	return n < nutrientCount && s&(1<<n) != 0
}

// With returns the set with n added.
func (s NutrientSet) With(n Nutrient) NutrientSet {
	if n >= nutrientCount {
		return s
	}
	return s | 1<<n
}

// String lists the set's nutrients, e.g. "{fiber_g sodium_mg}".
func (s NutrientSet) String() string {
	var names []string
	for n := Nutrient(0); n < nutrientCount; n++ {
		if s.Has(n) {
			names = append(names, n.String())
		}
	}
	return "{" + strings.Join(names, " ") + "}"
}

// Food is one food of USDA SR24.
type Food struct {
	// NDB is the food's NDB number: five digits as in the source, e.g.
	// "05064" for roasted chicken breast (meat only).
	NDB string
	// Description is USDA's description, e.g. "Chicken, broilers or
	// fryers, breast, meat only, cooked, roasted".
	Description string
	// Per100g holds the nutrients in 100 g of the food.
	Per100g Nutrients
	// Unknown lists the nutrients the source does not report for this
	// food; their value in Per100g is 0. Fiber and sodium are missing for
	// a few hundred foods; energy, protein, carbohydrate and fat are known
	// for every food.
	Unknown NutrientSet
	// Portions are the household measures of the food, in the order of the
	// source (which lists the most common first more often than not).
	Portions []Portion
}

// Portion is a household measure of a food and its weight.
type Portion struct {
	// Description gives the amount and the measure, e.g. "1 cup, chopped
	// or diced" or "0.5 breast, bone and skin removed".
	Description string
	Grams       float64
}

// Alias maps an everyday name ("chicken breast", "porridge") to the food
// it stands for.
type Alias struct {
	Name string
	NDB  string
}

// clone returns f with its own copy of Portions, so callers cannot change
// the dataset.
func (f Food) clone() Food {
	if f.Portions != nil {
		f.Portions = append([]Portion(nil), f.Portions...)
	}
	return f
}
