package sr24

import "strings"

// AsEaten scores how far a food's description is from the form a person
// means when a name does not say otherwise: 0 for the form as usually
// eaten, up to 1 for one nobody eats as it is. "Rice" means cooked rice,
// so "Rice, white, long-grain, regular, raw" is far from it; "apple"
// means a raw apple, so "Apples, raw" is not. Words the name itself holds
// ("raw salmon", "dry pasta") never count against a description.
//
// The rules: raw meat, fish, eggs, grains, pasta and dry legumes are
// 0.3 away; dry, uncooked, unprepared, dehydrated, powdered, mixes,
// concentrates and condensed forms 0.25; baby food and infant formula
// 0.5; canned forms 0.05. Both the embedded matcher and a USDA search use
// it, so they prefer the same foods.
func AsEaten(name, description string) float64 {
	q := " " + Normalize(name) + " "
	d := " " + Normalize(description) + " "
	for _, cooked := range []string{" dry heat ", " dry roasted "} {
		d = strings.ReplaceAll(d, cooked, " cooked ")
	}
	says := func(w string) bool { return strings.Contains(q, " "+w+" ") }
	in := func(w string) bool { return strings.Contains(d, " "+w+" ") }
	penalty := 0.0
	if in("raw") && !says("raw") && usuallyCooked(d) {
		penalty += 0.3
	}
	for _, w := range []string{"dry", "dried", "uncooked", "unprepared", "dehydrated", "powder", "mix", "concentrate", "condensed", "unheated", "as purchased"} {
		if in(w) && !says(w) && !(w == "dried" && says("dry")) {
			penalty += 0.25
			break
		}
	}
	if (in("babyfood") || in("baby food") || in("infant") || in("toddler")) && !says("baby") && !says("infant") {
		penalty += 0.5
	}
	if in("canned") && !says("canned") && !says("can") {
		penalty += 0.05
	}
	return min(penalty, 1)
}

// usuallyCooked reports whether a normalised description names a food
// that is eaten cooked: meat, fish, eggs, grains, pasta, dry legumes.
func usuallyCooked(d string) bool {
	for _, w := range []string{
		"chicken", "beef", "pork", "lamb", "veal", "turkey", "duck", "goose", "game meat", "fish", "crustacean",
		"mollusk", "shrimp", "egg", "rice", "pasta", "spaghetti", "macaroni", "noodle", "oat", "quinoa", "barley",
		"bulgur", "couscous", "millet", "buckwheat", "mature seed", "lentil", "chickpea", "potato", "sausage", "bacon",
	} {
		if strings.Contains(d, " "+w) {
			return true
		}
	}
	return false
}
