// Package meal reads what a person ate, as they would write it, into
// foods and grams: "2 large eggs and a slice of toast", "salmon 200g",
// "half an avocado", "a bowl of pho", "caesar salad with chicken".
//
// Usage:
//
//	data, _ := sr24.Load()
//	p, _ := meal.New(data)
//	items, err := p.Parse("2 large eggs and a glass of orange juice")
//	if errors.Is(err, meal.ErrBadInput) { /* answer 400 with err's text */ }
//	for _, it := range items {
//		if !it.Known { /* a food nobody knows: say so, with no number */ }
//		for _, c := range it.Components { /* c.NDB, c.Grams */ }
//	}
//
// # Amounts
//
// Amounts are figures (2, 1.5, 1,5), fractions (1/2, ½, 1 1/2, 1½), words
// ("a", "two", "half a", "a couple of", "one and a half", "a dozen") and
// ranges ("2-3" is 2.5), before the food or after it ("salmon 200g", "eggs
// x2"). Units are mass (g, kg, oz, lb), volume (ml, cl, dl, l, fl oz, cup,
// tbsp, tsp, pint, quart; a glass or a mug is a cup, a bowl 1 1/2 cups, a
// plate 2 cups, a shot 1 1/2 fl oz) and counts (slice, piece, fillet, pat,
// serving, handful, can, bottle, scoop, stick…), with sizes ("small",
// "medium", "large", "extra large", "jumbo").
//
// # Portions
//
// Every weight comes from the food's own USDA SR24 household measures: a
// volume through the food's own cup, fluid ounce or spoon, a count through
// its own slice, fillet or pat, a size through its own small, medium or
// large. With no amount, a food weighs its usual portion: one piece of the
// usual size (a medium banana, a large egg, a slice of bread), a
// tablespoon of a spread, an oil or honey (two of a dip), a teaspoon of
// sugar, a drink's can or glass or a cup, an ounce of cheese, nuts or
// sweets, one whole cut of meat or fish as SR24 weighs it cooked (a steak,
// a chop, a fillet), else 3 oz of meat or fish, else a cup. A bag or a
// packet with no weight is a single-serving one. A volume of a food with
// no volume measure is its own serving for a plate or a bowl, else weighed
// as water: a guess, and the item is Uncertain. Never a flat weight for
// everything. See docs/meals.md for every rule.
//
// # Foods and dishes
//
// A name is matched, in order, to a curated dish or alias ("rice" is white
// rice, cooked; "egg" a whole egg, hard-boiled), then without words that
// change little ("grilled", "homemade"), then to a template dish ("tofu
// stir fry", "ham sandwich": a recipe with the food named in it), then to
// a similar USDA description preferring the form as eaten (see
// sr24.AsEaten), then by its last words ("zorblax stew" is a stew). Each
// match has a confidence; under MinConfidence the item is Uncertain, and
// an answer should say so and never cache it as the food the name means.
// "and" and "with" split a caption into foods unless the words around them
// name one dish: "mac and cheese", "caesar salad with chicken". "on" after
// a sandwich names its bread: "a turkey sandwich on rye" is one sandwich
// made with rye bread. A dish is home-made unless the name says canned.
//
// Find reads the foods of a question with Parse: "calories in 0 g rice?"
// is Parse's error for "0 g rice".
//
// The dishes are recipes of SR24 foods in dishes.txt.
package meal
