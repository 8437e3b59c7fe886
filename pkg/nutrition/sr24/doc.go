// Package sr24 embeds the USDA National Nutrient Database for Standard
// Reference, release 24 (SR24), so the bot can answer "how many calories in
// 150 g of chicken breast" when USDA FoodData Central cannot be reached.
//
// The data holds 7,906 foods, each with energy, protein, carbohydrate, fat,
// fiber and sodium per 100 g and its household portions, plus a curated
// list of everyday names ("chicken breast", "porridge", "oj") mapped to
// foods. Load parses it (some tens of milliseconds; see BenchmarkLoad) into
// a Dataset, which finds foods by NDB number or by name.
//
// Usage:
//
//	data, err := sr24.Load()
//	m, err := data.Lookup("Chicken Breasts") // alias, then normalised name, then trigram similarity
//	if errors.Is(err, sr24.ErrNotFound) { /* try the next source */ }
//	kcal := m.Food.Per100g.Scale(150).EnergyKcal
//
// Lookup finds one food; Search lists the best candidates, for a search
// endpoint. AsEaten scores how far a description is from the form a name
// means (cooked rice for "rice"), for anyone choosing among candidates. Normalize is the name normalisation both use; store its result
// beside cached names so that other lookups (such as a database cache) agree
// with this one.
//
// # Defaults of the aliases
//
// A name alone means the food as it is usually eaten: meat, fish and
// poultry cooked, and without skin unless it is usually eaten with it
// ("chicken breast" is roasted breast, meat only; "chicken wing" and
// "rotisserie chicken" keep the skin; "salmon" is farmed Atlantic salmon,
// cooked), grains, pasta and
// legumes cooked ("rice" is white long-grain rice, cooked; "oatmeal" and
// "porridge" are oats cooked with water), "egg" a whole hard-boiled egg,
// fruit and salad vegetables raw ("broccoli" is raw; "cooked broccoli" is
// boiled). Other forms have names of their own: "raw egg", "fried egg",
// "raw chicken breast", "brown rice", "uncooked rice". Plurals need no alias
// of their own: "eggs" normalises to "egg".
//
// # Data files
//
// foods.csv.gz and portions.csv.gz are generated from the SR24 files of the
// cronometer Debian package by the gensr24 command; aliases.csv is edited
// by hand. README.md in this folder tells how to regenerate them. USDA food
// composition data is in the public domain.
package sr24
