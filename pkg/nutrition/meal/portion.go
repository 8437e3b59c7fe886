package meal

import (
	"fmt"
	"math"
	"strings"

	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// Quantity is an amount as a caption gives it: "2 large", "1/2 cup",
// "200 g", or nothing at all.
type Quantity struct {
	// Amount is how many units (or pieces, with no unit); 0 when the
	// caption gives none.
	Amount float64
	// Unit is the unit; its zero value (Name "") means pieces of the food
	// itself: "2 eggs".
	Unit Unit
	// Size is "extra small", "small", "medium", "large", "extra large" or
	// "jumbo" when the caption gives one.
	Size string
}

// String writes the quantity back: "2 large", "0.5 cup", "200 g".
func (q Quantity) String() string {
	var parts []string
	if q.Amount > 0 {
		parts = append(parts, formatAmount(q.Amount))
	}
	if q.Size != "" {
		parts = append(parts, q.Size)
	}
	if q.Unit.Name != "" {
		parts = append(parts, q.Unit.Name)
	}
	return strings.Join(parts, " ")
}

// Portion is what a quantity of a food weighs, and how that was found.
type Portion struct {
	Grams float64
	// How writes the computation: "2 × 1 large (50 g)", "1 cup (158 g)",
	// "200 ml × 1.00 g/ml (1 cup = 249 g)".
	How string
	// Exact: the food's own household measure, or a mass, gave the
	// weight; false when a general rule stood in (a size scaled from
	// another, a density assumed, a default serving).
	Exact bool
	// Guess: a volume was weighed as water (1 g/ml) for want of any volume
	// measure of the food, or of any density of a dish: the item is
	// uncertain (see confidenceGuess).
	Guess bool
}

// sizeFactors relate the sizes of one food to its medium.
var sizeFactors = map[string]float64{
	"extra small": 0.7, "small": 0.8, "medium": 1, "large": 1.2, "extra large": 1.4, "jumbo": 1.55,
}

// food is an SR24 food with its measures read and its kind of food known.
type food struct {
	sr24.Food
	measures []measure
	// What the food is, for the portion rules.
	egg, beverage, spread, sweetener, seasoning, snack, meat, alcohol, cheese, sauce, dairyLiquid, dip bool
	// bread: a bread, a roll, a bagel, a croissant, an English muffin, a
	// tortilla; sandwich: a sandwich or a burger sold whole, its bread in
	// it; grain: a cereal grain as sold, no bread ("Rye").
	bread, sandwich, grain bool
}

func newFood(f sr24.Food) *food {
	fd := &food{Food: f}
	for _, p := range f.Portions {
		if p.Grams > 0 {
			fd.measures = append(fd.measures, readMeasure(p))
		}
	}
	d := strings.ToLower(f.Description)
	group := f.NDB[:2]
	has := func(words ...string) bool {
		for _, w := range words {
			if containsPhrase(d, w) {
				return true
			}
		}
		return false
	}
	starts := func(prefixes ...string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(d, p) {
				return true
			}
		}
		return false
	}
	fd.egg = starts("egg,") && !has("substitute")
	fd.alcohol = starts("alcoholic beverage")
	fd.beverage = (group == "14" || starts("milk,", "milk shakes", "soymilk", "eggnog", "buttermilk") ||
		(has("juice", "juices") && !has("juice pack", "packed in juice")) || has("beverage", "drink", "smoothie", "lemonade", "nectar")) &&
		!has("evaporated", "condensed", "dry", "powder", "concentrate, frozen")
	fd.sweetener = starts("sugars", "sugar,", "sweetener", "sweeteners")
	fd.cheese = starts("cheese") && !has("cottage", "ricotta", "cream", "spread", "sauce", "dip")
	first := strings.SplitN(d, ",", 2)[0]
	fd.spread = group == "04" || starts("butter,", "margarine", "peanut butter", "honey", "jams", "jellies", "marmalade",
		"syrups", "molasses", "catsup", "mustard", "vinegar", "soy sauce", "hummus", "guacamole", "cream,", "cream substitute",
		"miso", "lard", "cheese, parmesan, grated", "cheese, cream", "chocolate-flavored hazelnut spread") ||
		has("butter") && starts("nuts", "seeds") ||
		containsAny(first, "sauce", "dressing", "spread", "mayonnaise", "relish", "salsa", "pesto", "dip", "tahini") &&
			!has("pasta", "spaghetti", "marinara", "cheese sauce", "alfredo", "enchilada", "pizza", "white sauce") && !starts("sauce, cheese")
	fd.dip = starts("hummus", "guacamole", "dip", "sauce, salsa", "salsa") || has("dip")
	fd.sauce = !fd.spread && (has("sauce", "gravy") && !has("with"))
	fd.dairyLiquid = starts("milk,", "cream,", "cream substitute", "half and half", "soymilk")
	fd.seasoning = starts("garlic", "ginger root", "basil", "parsley", "coriander", "chives", "dill", "mint", "spearmint",
		"peppermint", "rosemary", "thyme", "lemon grass", "lemon peel", "spices", "salt", "leavening", "baking")
	fd.snack = group == "12" || starts("snacks", "candies", "nuts", "seeds", "peanuts", "trail mix", "pretzels", "crackers", "raisins", "chocolate, dark") ||
		(group == "09" && has("dried", "dehydrated"))
	switch group {
	case "05", "07", "10", "13", "15", "17":
		fd.meat = true
	}
	fd.bread = group == "18" && (first == "bread" || first == "rolls" || first == "bagels" || first == "croissants" ||
		first == "english muffins" || first == "tortillas" || first == "biscuits" || first == "focaccia")
	fd.sandwich = (group == "21" || group == "22" || group == "36" || starts("sandwiches and burgers")) && !fd.beverage && !has("shake") &&
		has("sandwich", "burger", "hamburger", "cheeseburger", "hotdog", "hot dog", "submarine")
	fd.grain = group == "20" && !has("cooked", "bread")
	return fd
}

// grams returns the weight of q of the food.
func (f *food) grams(q Quantity) Portion {
	amount := q.Amount
	if amount == 0 {
		amount = 1
	}
	switch q.Unit.Kind {
	case Mass:
		g := amount * q.Unit.Grams
		return Portion{Grams: g, How: fmt.Sprintf("%s %s", formatAmount(amount), q.Unit.Name), Exact: true}
	case Volume:
		if servingContainers[q.Unit.Name] && !f.weighsByVolume(q.Unit) {
			// "a plate of nachos": a food with no volume measure comes
			// in its own serving.
			if tp, _ := f.typical(); tp.Exact && !tp.Guess {
				tp.How = fmt.Sprintf("1 %s, the food's own serving: %s", q.Unit.Name, tp.How)
				return f.sized(scale(tp, amount), q.Size)
			}
		}
		return f.sized(f.volume(amount, q.Unit), q.Size)
	case Count:
		if q.Unit.Name == "packet" {
			return scale(f.packet(q.Size), amount)
		}
		p := f.count(q.Unit)
		return f.sized(scale(p, amount), q.Size)
	}
	if q.Amount == 0 && q.Size == "" {
		p, _ := f.typical()
		return p
	}
	return scale(f.each(q.Size), amount)
}

// scale multiplies a portion of one unit.
func scale(p Portion, n float64) Portion {
	if n == 1 {
		return p
	}
	p.Grams, p.How = p.Grams*n, formatAmount(n)+" × "+p.How
	return p
}

// sized applies a size word to a portion of a unit that has no sizes of
// its own: "a large glass".
func (f *food) sized(p Portion, size string) Portion {
	if size == "" || size == "medium" {
		return p
	}
	k := sizeFactors[size]
	p.Grams, p.How, p.Exact = p.Grams*k, fmt.Sprintf("%s × %.2f (%s)", p.How, k, size), false
	return p
}

// volume returns the weight of amount of a volume unit, from the food's
// own measure of that unit, else from its density.
func (f *food) volume(amount float64, u Unit) Portion {
	ml := amount * u.Millilitres
	if u.Name == "glass" {
		// A glass of wine is the food's own serving, when smaller than a cup.
		for _, m := range f.measures {
			if m.kind == Count && (m.noun == "serving" || m.noun == "glass") && m.ml > 0 && m.ml < cupMl {
				return Portion{Grams: amount * m.Grams / m.amount, How: fmt.Sprintf("%s × %s (%s g)", formatAmount(amount), m.Description, formatGrams(m.per())), Exact: true}
			}
		}
	}
	if m, ok := f.sameVolumeUnit(u); ok {
		per := m.Grams / m.ml * u.Millilitres
		how := fmt.Sprintf("%s %s (1 %s = %s g, from %q)", formatAmount(amount), u.Name, u.Name, formatGrams(per), m.Description)
		if m.ml == u.Millilitres && m.amount == 1 {
			how = fmt.Sprintf("%s × %s (%s g)", formatAmount(amount), m.Description, formatGrams(m.Grams))
		}
		return Portion{Grams: amount * per, How: how, Exact: true}
	}
	if m, ok := f.density(); ok {
		d := m.Grams / m.ml
		return Portion{Grams: ml * d, How: fmt.Sprintf("%s ml × %.2f g/ml (%q = %s g)", formatAmount(ml), d, m.Description, formatGrams(m.Grams)), Exact: true}
	}
	return Portion{Grams: ml, How: fmt.Sprintf("%s ml × 1 g/ml (a guess: no volume measure known)", formatAmount(ml)), Guess: true}
}

// servingContainers are the volume units that are a serving as much as a
// volume: a plate or a bowl of a food that has no volume measure is its
// own serving rather than a volume weighed as water.
var servingContainers = map[string]bool{"plate": true, "bowl": true}

// weighsByVolume reports whether the food has a measure to weigh a volume
// of u with: its own measure of that unit, or a density.
func (f *food) weighsByVolume(u Unit) bool {
	if _, ok := f.sameVolumeUnit(u); ok {
		return true
	}
	_, ok := f.density()
	return ok
}

// singleServing is the most a bag or a packet may weigh to be one
// person's serving: 2 oz (a snack bag of chips is 1 to 2 oz, a packet of
// instant oatmeal 1 to 1 ½ oz, of candy 1.7 oz).
const singleServing = 2 * 28.3495

// packet returns the weight of a bag or a packet of the food when the
// caption gives no weight: a single-serving one (the food's own packet
// that weighs at most singleServing or says it is single-serve, the
// largest such, or the smallest for "a small bag"), else the food's usual
// portion (an ounce of chips, nuts or sweets); "a large bag", "a family
// size bag", "a party bag" is the food's largest packet, else a guess of
// familyBagPortions usual portions.
func (f *food) packet(size string) Portion {
	var single, all []measure
	for _, m := range f.measures {
		if m.kind != Count || m.baby || m.yield || !contains(countNouns["packet"], m.noun) {
			continue
		}
		all = append(all, m)
		d := strings.ToLower(m.Description)
		if m.per() <= singleServing || containsAny(d, "single", "individual", "singles", "snack") {
			single = append(single, m)
		}
	}
	pick := func(ms []measure, largest bool) measure {
		best := ms[0]
		for _, m := range ms[1:] {
			if largest && m.per() > best.per() || !largest && m.per() < best.per() {
				best = m
			}
		}
		return best
	}
	big := size == "large" || size == "extra large" || size == "jumbo"
	switch {
	case big && len(all) > 0:
		m := pick(all, true)
		return Portion{Grams: m.per(), How: fmt.Sprintf("1 %s bag, the largest: %q (%s g)", size, m.Description, formatGrams(m.per())), Exact: true}
	case !big && len(single) > 0:
		m := pick(single, size != "small" && size != "extra small")
		return Portion{Grams: m.per(), How: fmt.Sprintf("1 single-serving packet: %q (%s g)", m.Description, formatGrams(m.per())), Exact: true}
	}
	tp, _ := f.typical()
	if big {
		// No large bag known: eight usual portions, as SR24's family bag
		// of potato chips (8 oz) is of its ounce; a guess.
		return Portion{Grams: familyBagPortions * tp.Grams, How: fmt.Sprintf("1 %s bag, none known: %d × the usual portion, %s (a guess)", size, familyBagPortions, tp.How), Guess: true}
	}
	tp.How, tp.Exact = "1 single-serving bag, the usual portion: "+tp.How, false
	return tp
}

// familyBagPortions is how many usual portions a large bag holds when the
// food has no bag of its own: SR24's family bag of potato chips ("1 bag
// (8 oz)") holds eight of their usual ounce.
const familyBagPortions = 8

// sameVolumeUnit finds the food's measure in the unit u itself (its cup
// for a cup), the plainest first.
func (f *food) sameVolumeUnit(u Unit) (measure, bool) {
	want := map[string]string{"cup": "cup", "glass": "cup", "mug": "cup", "bowl": "cup", "plate": "cup", "tbsp": "tbsp", "tsp": "tsp", "fl oz": "fl oz"}[u.Name]
	if want == "" {
		return measure{}, false
	}
	best, bestRank := measure{}, 100
	for _, m := range f.measures {
		if m.kind != Volume || m.ml == 0 {
			continue
		}
		noun := m.noun
		switch noun {
		case "tablespoon":
			noun = "tbsp"
		case "teaspoon":
			noun = "tsp"
		case "cups":
			noun = "cup"
		}
		if noun != want {
			continue
		}
		if r := volumeRank(m); r < bestRank {
			best, bestRank = m, r
		}
	}
	return best, bestRank < 100
}

// density returns the food's best volume measure, to weigh volumes.
func (f *food) density() (measure, bool) {
	best, bestRank := measure{}, 100
	for _, m := range f.measures {
		if m.ml == 0 || m.baby || m.kind == Mass {
			continue
		}
		r := volumeRank(m)
		switch {
		case m.kind == Count:
			r += 40
		case m.noun == "fl oz":
			r += 10
		case m.noun == "tbsp" || m.noun == "tablespoon":
			r += 20
		case m.noun == "tsp" || m.noun == "teaspoon":
			r += 30
		}
		if r < bestRank {
			best, bestRank = m, r
		}
	}
	return best, bestRank < 100
}

// volumeRank orders volume measures: plain first, then the usual cuts,
// then those that pack more or less than a plain cup would.
func volumeRank(m measure) int {
	q := m.qual
	switch {
	case q == "" || strings.Contains(q, "fl oz") || strings.Contains(q, "nlea"):
		return 0
	case strings.Contains(q, "mashed") || strings.Contains(q, "pureed") || strings.Contains(q, "packed") ||
		strings.Contains(q, "crumb") || strings.Contains(q, "ground") || strings.Contains(q, "melted") || strings.Contains(q, "unsifted"):
		return 5
	}
	return 2
}

// person calls one breast or one fillet; a whole breast or fillet there is
// both sides.
func halfMeansOne(m measure) bool {
	return m.amount == 0.5 && (m.noun == "breast" || m.noun == "fillet" || m.noun == "filet")
}

// countNouns are the words of household measures that each count unit
// matches.
var countNouns = map[string][]string{
	"slice": {"slice", "slices"}, "piece": {"piece", "pieces"}, "fillet": {"fillet", "filet"},
	"pat": {"pat"}, "serving": {"serving", "nlea serving", "portion"}, "scoop": {"scoop"}, "stick": {"stick"},
	"clove": {"clove"}, "strip": {"strip", "strips", "slice"}, "packet": {"packet", "package", "pack", "bag", "envelope", "pouch"},
	"container": {"container"}, "bar": {"bar"}, "square": {"square"}, "wedge": {"wedge"}, "leaf": {"leaf"},
	"can": {"can"}, "bottle": {"bottle"}, "handful": {"handful"}, "sprig": {"sprig", "sprigs"},
	"link": {"link", "links"}, "patty": {"patty", "pattie", "patties"},
}

// notPiece are count measures that are not one piece of a food.
var notPiece = map[string]bool{
	"serving": true, "nlea serving": true, "portion": true, "package": true, "packet": true, "envelope": true,
	"pouch": true, "container": true, "jar": true, "box": true, "bag": true, "cubic": true, "cube": true,
	"individual": true, "recipe": true, "unit": true, "raw": true, "drink": true, "sheet": true,
}

// partNouns are pieces of a fruit or vegetable smaller than one: nobody
// means "one spear" by "broccoli".
var partNouns = map[string]bool{
	"spear": true, "spears": true, "floweret": true, "flowerets": true, "leaf": true, "leaves": true, "stalk": true,
	"stalks": true, "slice": true, "slices": true, "piece": true, "pieces": true, "wedge": true, "stick": true,
	"strip": true, "strips": true, "pod": true, "pods": true, "kernel": true, "kernels": true, "ring": true,
	"rings": true, "sprig": true, "sprigs": true, "sheet": true, "sheets": true, "shoot": true, "bunch": true,
	"head": true, "root": true,
}

// produce reports whether the food is a fruit or a vegetable.
func (f *food) produce() bool {
	g := f.NDB[:2]
	return g == "09" || g == "11"
}

// isPiece reports whether a measure is one piece of the food, to count.
func (f *food) isPiece(m measure) bool {
	switch {
	case m.kind != Count || m.yield || m.whole || m.baby || notPiece[m.noun]:
		return false
	case (m.noun == "can" || m.noun == "bottle") && !f.beverage:
		return false
	case f.produce() && partNouns[m.noun]:
		return false
	}
	return true
}

// pieceMeasure returns the food's first piece of the given size ("" for
// an unsized piece: "1 fruit", "1 slice", "0.5 fillet"), weighing from min
// to max grams each; failing that, a whole cut of meat as cooked ("1 steak
// (yield from 518 g raw meat)", see wholeCut).
func (f *food) pieceMeasure(size string, min, max float64) (measure, bool) {
	for _, whole := range []bool{false, true} {
		for _, m := range f.measures {
			if (!whole && f.isPiece(m) || whole && f.wholeCut(m)) && m.size == size {
				if g := pieceGrams(m); g >= min && g <= max {
					return m, true
				}
			}
		}
	}
	return measure{}, false
}

// cutNouns name a whole cut of meat, poultry or fish, eaten as one piece.
var cutNouns = map[string]bool{
	"steak": true, "chop": true, "fillet": true, "filet": true, "breast": true, "thigh": true, "drumstick": true,
	"leg": true, "wing": true, "cutlet": true, "piece": true,
}

// wholeCut reports whether a yield measure of a meat is one whole cut as
// cooked, which is what a person means by "a steak" or "a pork chop": "1
// steak (yield from 518 g raw meat)", "1 chop without refuse (yield from 1
// cooked chop…)", or, for a food sold as steaks, chops or cutlets, "1
// piece, cooked (yield from 1 lb raw meat)". Other yields ("1 unit (yield
// from 1 lb ready-to-cook chicken)") are no piece.
func (f *food) wholeCut(m measure) bool {
	if !f.meat || !m.yield || m.kind != Count || m.amount != 1 || !cutNouns[m.noun] {
		return false
	}
	if m.noun != "piece" {
		return true
	}
	return containsAny(strings.ToLower(f.Description), "steak", "steaks", "chop", "chops", "cutlet", "cutlets", "fillet", "fillets")
}

// pieceGrams is the weight of one piece of a measure.
func pieceGrams(m measure) float64 {
	if halfMeansOne(m) {
		return m.Grams
	}
	return m.per()
}

// maxPiece is the most one piece may weigh to be a portion by itself: a
// whole pizza or a whole cucumber is no usual portion.
func (f *food) maxPiece() float64 {
	switch {
	case f.produce():
		return 350
	case f.orderSized():
		return 700 // a restaurant order
	}
	return 400
}

// piecePortion writes one piece of a measure as a portion.
func piecePortion(m measure) Portion {
	g := pieceGrams(m)
	if m.amount == 1 || halfMeansOne(m) {
		return Portion{Grams: g, How: fmt.Sprintf("%q (%s g)", m.Description, formatGrams(g)), Exact: true}
	}
	return Portion{Grams: g, How: fmt.Sprintf("1 %s (%s g, from %q = %s g)", m.noun, formatGrams(g), m.Description, formatGrams(m.Grams)), Exact: true}
}

// named returns the food's piece measure whose word the caption used:
// "cherry" in "cherry tomatoes", "wing" in "chicken wings"; of the size
// asked for, else of the standard size, else unsized, else the first.
func (f *food) named(words []string, size string) (measure, bool) {
	var found []measure
	for _, m := range f.measures {
		if !f.isPiece(m) || m.noun == "" {
			continue
		}
		noun := sr24.Normalize(m.noun)
		for _, w := range words {
			if w == noun {
				found = append(found, m)
				break
			}
		}
	}
	if len(found) == 0 {
		return measure{}, false
	}
	for _, want := range []string{size, f.standardSize(), ""} {
		for _, m := range found {
			if m.size == want && (want != "" || size == "") {
				return m, true
			}
		}
	}
	return found[0], true
}

// count returns the weight of one count unit (a slice, a fillet, a pat…)
// of the food: its own measure of that name, else a general rule.
func (f *food) count(u Unit) Portion {
	nouns := countNouns[u.Name]
	var found []measure
	for _, m := range f.measures {
		if m.kind == Count && !m.baby && !m.yield && contains(nouns, m.noun) {
			found = append(found, m)
		}
	}
	// The plain one first ("1 slice", not "1 slice, thin" nor "1 bar,
	// miniature"), else an unsized one, else the usual size, else the first.
	rank := func(m measure) int {
		switch {
		case m.size == "" && m.qual == "" && m.extra == "":
			return 0
		case m.size == "":
			return 1
		case m.size == f.standardSize():
			return 2
		}
		return 3
	}
	if len(found) > 0 {
		best := found[0]
		for _, m := range found[1:] {
			if rank(m) < rank(best) {
				best = m
			}
		}
		p := piecePortion(best)
		p.How = "1 " + u.Name + " " + strings.TrimPrefix(p.How, "1 "+best.noun+" ")
		return p
	}
	switch u.Name {
	case "slice", "strip", "square", "wedge", "piece":
		if u.Name == "square" {
			// A square of a bar (of chocolate): bars are scored into ten.
			for _, m := range f.measures {
				if m.kind == Count && m.noun == "bar" && m.size == "" && !m.baby {
					g := m.per() / 10
					return Portion{Grams: g, How: fmt.Sprintf("1 square, a tenth of %q (%s g)", m.Description, formatGrams(m.per())), Exact: false}
				}
			}
		}
		for _, other := range []string{"slice", "wedge", "piece"} {
			if other == u.Name {
				continue
			}
			for _, m := range f.measures {
				if m.kind == Count && !m.baby && !m.yield && contains(countNouns[other], m.noun) {
					p := piecePortion(m)
					p.How = "1 " + u.Name + " as " + p.How
					return p
				}
			}
		}
		if m, ok := f.pieceMeasure("", 0, f.maxPiece()); ok {
			return piecePortion(m)
		}
	case "handful":
		if f.snack {
			return Portion{Grams: 28.35, How: "1 handful (1 oz, 28.35 g)", Exact: false}
		}
		p := f.volume(0.5, unitCup)
		return Portion{Grams: p.Grams, How: "1 handful (½ cup: " + p.How + ")", Guess: p.Guess}
	case "pat":
		return Portion{Grams: 5, How: "1 pat (5 g)", Exact: false}
	case "pinch":
		return Portion{Grams: 0.4, How: "1 pinch (0.4 g)", Exact: false}
	case "can", "bottle":
		ml := 12 * flOzMl
		if u.Name == "bottle" {
			switch {
			case strings.Contains(strings.ToLower(f.Description), "wine"):
				ml = 750
			case !f.alcohol:
				ml = 500
			}
		}
		p := f.volume(ml/cupMl, unitCup)
		return Portion{Grams: p.Grams, How: fmt.Sprintf("1 %s (%s ml: %s)", u.Name, formatAmount(ml), p.How), Guess: p.Guess}
	case "scoop", "container":
		cups := 0.5
		if u.Name == "container" {
			cups = 1
		}
		p := f.volume(cups, unitCup)
		return Portion{Grams: p.Grams, How: fmt.Sprintf("1 %s (%s cup: %s)", u.Name, formatAmount(cups), p.How), Guess: p.Guess}
	case "leaf", "sprig", "clove":
		return Portion{Grams: 5, How: "1 " + u.Name + " (5 g)", Exact: false}
	}
	p, _ := f.typical()
	return Portion{Grams: p.Grams, How: fmt.Sprintf("1 %s (the usual serving: %s)", u.Name, p.How), Exact: false}
}

// standardSize is the size meant when none is said: medium, or large for
// eggs, the US standard egg.
func (f *food) standardSize() string {
	if f.egg {
		return "large"
	}
	return "medium"
}

// each returns the weight of one piece of the food of the given size
// ("" for the usual size), scaling another size when the food has no
// measure of that one.
func (f *food) each(size string) Portion {
	if f.beverage && size == "" {
		p, _ := f.typical() // "a beer": a can
		return p
	}
	want := size
	if want == "" {
		want = f.standardSize()
	}
	if m, ok := f.pieceMeasure(want, 0, 1500); ok {
		return Portion{Grams: m.per(), How: fmt.Sprintf("%q (%s g)", m.Description, formatGrams(m.per())), Exact: true}
	}
	var base Portion
	baseSize := "medium"
	s, okS := f.pieceMeasure("small", 0, 1500)
	l, okL := f.pieceMeasure("large", 0, 1500)
	if m, ok := f.pieceMeasure("", 0, 1500); ok {
		base = piecePortion(m)
	} else if okS && okL {
		g := (s.per() + l.per()) / 2
		base = Portion{Grams: g, How: fmt.Sprintf("a medium one, between %q (%s g) and %q (%s g)", s.Description, formatGrams(s.per()), l.Description, formatGrams(l.per())), Exact: false}
	} else if okS {
		base, baseSize = Portion{Grams: s.per(), How: fmt.Sprintf("%q (%s g)", s.Description, formatGrams(s.per())), Exact: true}, "small"
	} else if okL {
		base, baseSize = Portion{Grams: l.per(), How: fmt.Sprintf("%q (%s g)", l.Description, formatGrams(l.per())), Exact: true}, "large"
	} else {
		base, _ = f.typical()
	}
	if want == baseSize || (size == "" && baseSize == "medium") {
		return base
	}
	k := sizeFactors[want] / sizeFactors[baseSize]
	return Portion{Grams: base.Grams * k, How: fmt.Sprintf("%s × %.2f (%s)", base.How, k, want), Exact: false}
}

// minPortion is the least a piece must weigh to be eaten alone as a
// portion: one almond or one grape is not what "almonds" means.
const minPortion = 20

// typical returns the food's usual portion when a caption gives no
// amount, and whether it is one piece of the food:
//
//   - a drink: its own can, glass or serving (a can of cola, 5 fl oz of
//     wine, a jigger of spirits), else a cup;
//   - one piece of the usual size when the food comes in pieces of at
//     least 20 g (a medium banana, a large egg, a slice of bread);
//   - a tablespoon of a spread, an oil, a dressing or a sauce; a teaspoon
//     of sugar, salt or a spice;
//   - the food's own serving ("1 serving 1/2 cup");
//   - an ounce of cheese, nuts, chips or sweets;
//   - enough small pieces to weigh 20 g (3 slices of bacon);
//   - 3 oz of meat, poultry or fish;
//   - a cup; else the food's first measure; else 100 g.
func (f *food) typical() (Portion, bool) {
	if f.beverage {
		// A drink's own serving: a glass of wine, a jigger, a can (the one
		// closest to 12 fl oz).
		best, bestOff := measure{}, math.Inf(1)
		for _, m := range f.measures {
			if m.kind != Count || m.baby || m.size != "" {
				continue
			}
			off := math.Inf(1)
			switch {
			case m.ml > 0 && (m.noun == "serving" || m.noun == "glass" || m.noun == "cocktail" || m.noun == "jigger"):
				off = 0
			case m.noun == "can" || m.noun == "bottle":
				off = 1
				if m.ml > 0 {
					off = 1 + math.Abs(m.ml/m.amount-12*flOzMl)
				}
			}
			if off < bestOff {
				best, bestOff = m, off
			}
		}
		if !math.IsInf(bestOff, 1) {
			return Portion{Grams: best.per(), How: fmt.Sprintf("%q (%s g)", best.Description, formatGrams(best.per())), Exact: true}, false
		}
		if strings.Contains(strings.ToLower(f.Description), "espresso") {
			return f.volume(1, unitFlOz), false // a shot
		}
		return f.volume(1, unitCup), false
	}
	for _, m := range f.measures {
		if m.kind == Volume && strings.Contains(m.qual, "nlea serving") && m.Grams >= minPortion/2 {
			return listedPortion(m), false // a breakfast cereal's serving
		}
	}
	if f.spread || f.sweetener || f.seasoning {
		if f.seasoning {
			if m, ok := f.pieceMeasure("", 0, minPortion); ok {
				return piecePortion(m), true
			}
		}
		unit, n := unitTbsp, 1.0
		switch {
		case f.sweetener || f.seasoning && !f.produce():
			unit = units["tsp"]
		case f.dip:
			n = 2 // a dip or a nut butter: 2 tbsp, the US serving
		}
		if m, ok := f.sameVolumeUnit(unit); ok {
			per := m.Grams / m.ml * unit.Millilitres
			return Portion{Grams: n * per, How: fmt.Sprintf("%s %s (%s g each, from %q)", formatAmount(n), unit.Name, formatGrams(per), m.Description), Exact: true}, false
		}
		if _, ok := f.density(); ok {
			return f.volume(n, unit), false
		}
	}
	if m, ok := f.pieceMeasure(f.standardSize(), minPortion, f.maxPiece()); ok {
		return listedPortion(m), true
	}
	if m, ok := f.pieceMeasure("", minPortion, f.maxPiece()); ok {
		return listedPortion(m), true
	}
	if _, tiny := f.pieceMeasure(f.standardSize(), 0, minPortion); !tiny {
		for _, size := range []string{"small", "large", "extra large"} {
			if _, ok := f.pieceMeasure(size, minPortion, f.maxPiece()); ok {
				return f.each(""), true
			}
		}
	}
	if f.sauce {
		if _, ok := f.density(); ok {
			return f.volume(0.5, unitCup), false
		}
	}
	for _, m := range f.measures {
		if m.kind == Count && (m.noun == "serving" || m.noun == "nlea serving" || m.noun == "portion") && !m.baby && m.per() <= f.maxPiece() && m.per() >= minPortion {
			return Portion{Grams: m.per(), How: fmt.Sprintf("1 serving (%q, %s g)", m.Description, formatGrams(m.Grams)), Exact: true}, false
		}
	}
	if f.cheese || f.snack {
		return ounces(f, 1), false
	}
	if !f.produce() {
		for _, m := range f.measures {
			if f.isPiece(m) && (m.size == "" || m.size == f.standardSize()) && m.per() > 0 && m.per() < minPortion {
				n := math.Ceil(minPortion / m.per())
				if n <= 12 {
					return Portion{Grams: n * m.per(), How: fmt.Sprintf("%s × 1 %s (%s g, from %q)", formatAmount(n), m.noun, formatGrams(m.per()), m.Description), Exact: true}, false
				}
			}
		}
	}
	if f.meat {
		return ounces(f, 3), false
	}
	if _, ok := f.density(); ok {
		return f.volume(1, unitCup), false
	}
	for _, m := range f.measures {
		if !m.yield && !m.whole && !m.baby && m.per() <= f.maxPiece() && m.kind != Mass {
			return Portion{Grams: m.per(), How: fmt.Sprintf("%q (%s g)", m.Description, formatGrams(m.Grams)), Exact: false}, false
		}
	}
	return Portion{Grams: 100, How: "100 g (no household measure known)", Exact: false}, false
}

// listedPortion is a measure as listed when it is one piece or less ("0.25
// block", "0.5 medium"), else one piece of it.
func listedPortion(m measure) Portion {
	if m.amount <= 1 {
		return Portion{Grams: m.Grams, How: fmt.Sprintf("%q (%s g)", m.Description, formatGrams(m.Grams)), Exact: true}
	}
	return piecePortion(m)
}

// ounces returns n oz of the food, named by its own measure when it has one.
func ounces(f *food, n float64) Portion {
	for _, m := range f.measures {
		if m.kind == Mass && m.noun == "oz" && m.amount == n {
			return Portion{Grams: m.Grams, How: fmt.Sprintf("%q (%s g)", m.Description, formatGrams(m.Grams)), Exact: true}
		}
	}
	return Portion{Grams: n * 28.3495, How: fmt.Sprintf("%s oz (%s g)", formatAmount(n), formatGrams(n*28.3495)), Exact: true}
}

// containsAny reports whether text holds one of the phrases as whole words.
func containsAny(text string, phrases ...string) bool {
	for _, p := range phrases {
		if containsPhrase(text, p) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// formatAmount writes an amount without needless decimals: 2, 0.5, 1.33.
func formatAmount(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

// formatGrams writes a weight with at most one decimal.
func formatGrams(g float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.1f", g), "0"), ".")
}

// filling is how much of a food fills a sandwich or a wrap: 2 tbsp of a
// spread, 1/2 cup of a salad (tuna salad), 2 oz of meat, fish or cheese,
// 2 eggs, else its usual portion.
func (f *food) filling() Portion {
	switch {
	case f.spread:
		return f.volume(2, unitTbsp)
	case strings.Contains(strings.ToLower(f.Description), "salad"):
		return f.volume(0.5, unitCup)
	case f.meat || f.cheese:
		return Portion{Grams: 2 * 28.3495, How: "2 oz", Exact: true}
	case f.egg:
		return scale(f.each(""), 2)
	}
	p, _ := f.typical()
	return p
}

// breadFor weighs the bread b in place of this bread, oldGrams of it, in a
// dish: as many slices as the dish had (each b's usual slice, or its slice
// nearest the dish's own when the usual one is more than half as big
// again), two slices for a bread that came in one piece (a bagel), or one
// piece of a bread that comes in pieces (a bun, a bagel, a croissant).
func (f *food) breadFor(oldGrams float64, b *food) Portion {
	oldSlice, oldSliced := f.slice()
	newSlice, newSliced := b.slice()
	if !newSliced {
		p := b.each("")
		p.How = "1 piece: " + p.How
		return p
	}
	n, ref := 2.0, newSlice.Grams
	if oldSliced {
		n, ref = max(1, math.Round(oldGrams/oldSlice.Grams)), oldSlice.Grams
	}
	if newSlice.Grams > 1.5*ref {
		best := math.Inf(1)
		for _, m := range b.measures {
			if m.kind == Count && m.noun == "slice" && !m.baby && !m.yield && m.extra == "" && math.Abs(m.per()-ref) < best {
				best, newSlice = math.Abs(m.per()-ref), piecePortion(m)
			}
		}
	}
	return scale(newSlice, n)
}

// slice returns the food's usual slice, when it comes in slices.
func (f *food) slice() (Portion, bool) {
	for _, m := range f.measures {
		if m.kind == Count && m.noun == "slice" && !m.baby && !m.yield {
			return f.count(Unit{Name: "slice", Kind: Count}), true
		}
	}
	return Portion{}, false
}
