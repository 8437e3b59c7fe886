package meal

// UnitKind says how a unit turns into grams.
type UnitKind uint8

const (
	// Mass units convert by a fixed factor: g, kg, oz, lb.
	Mass UnitKind = iota + 1
	// Volume units go through the food's own weight of a cup, a fluid
	// ounce, a tablespoon or a teaspoon: ml, l, fl oz, cup, glass, tbsp…
	Volume
	// Count units are the food's own household measures: slice, piece,
	// fillet, pat, serving, handful…
	Count
)

// Unit is a unit of amount a caption may use.
type Unit struct {
	// Name is the canonical name: "g", "fl oz", "cup", "slice".
	Name string
	Kind UnitKind
	// Grams in one unit, for Mass; millilitres in one unit, for Volume.
	Grams, Millilitres float64
}

// Millilitres in the US customary measures that household portions use.
const (
	cupMl   = 236.588
	flOzMl  = 29.5735
	tbspMl  = 14.7868
	tspMl   = 4.92892
	pintMl  = 473.176
	quartMl = 946.353
)

var (
	unitGram = Unit{Name: "g", Kind: Mass, Grams: 1}
	unitCup  = Unit{Name: "cup", Kind: Volume, Millilitres: cupMl}
	unitTbsp = Unit{Name: "tbsp", Kind: Volume, Millilitres: tbspMl}
	unitFlOz = Unit{Name: "fl oz", Kind: Volume, Millilitres: flOzMl}
)

// units maps the words of captions to units. Two-word units ("fl oz",
// "fluid ounce") are keyed by both words. Read-only after it is built.
var units = buildUnits()

func buildUnits() map[string]Unit {
	units := make(map[string]Unit)
	add := func(u Unit, words ...string) {
		for _, w := range words {
			units[w] = u
		}
	}
	add(unitGram, "g", "gr", "grs", "gm", "gms", "gram", "grams", "gramme", "grammes", "grm")
	add(Unit{Name: "kg", Kind: Mass, Grams: 1000}, "kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramme", "kilogrammes")
	add(Unit{Name: "oz", Kind: Mass, Grams: 28.3495}, "oz", "ozs", "ounce", "ounces")
	add(Unit{Name: "lb", Kind: Mass, Grams: 453.592}, "lb", "lbs", "pound", "pounds")
	add(Unit{Name: "ml", Kind: Volume, Millilitres: 1}, "ml", "mls", "millilitre", "millilitres", "milliliter", "milliliters")
	add(Unit{Name: "cl", Kind: Volume, Millilitres: 10}, "cl", "centilitre", "centilitres", "centiliter", "centiliters")
	add(Unit{Name: "dl", Kind: Volume, Millilitres: 100}, "dl", "decilitre", "decilitres", "deciliter", "deciliters")
	add(Unit{Name: "l", Kind: Volume, Millilitres: 1000}, "l", "litre", "litres", "liter", "liters", "ltr")
	add(unitFlOz, "fl oz", "fl ozs", "fl ounce", "fl ounces", "floz", "fluid ounce", "fluid ounces")
	add(unitCup, "cup", "cups", "c")
	add(unitTbsp, "tbsp", "tbsps", "tbs", "tbl", "tblsp", "tablespoon", "tablespoons", "tablespoonful", "tablespoonfuls", "spoon", "spoons", "spoonful", "spoonfuls")
	add(Unit{Name: "tsp", Kind: Volume, Millilitres: tspMl}, "tsp", "tsps", "teaspoon", "teaspoons", "teaspoonful", "teaspoonfuls")
	// A glass or a mug holds a cup (8 fl oz), a bowl a cup and a half, a
	// plate two cups, a shot a jigger (1.5 fl oz).
	add(Unit{Name: "glass", Kind: Volume, Millilitres: cupMl}, "glass", "glasses", "tumbler")
	add(Unit{Name: "mug", Kind: Volume, Millilitres: cupMl}, "mug", "mugs")
	add(Unit{Name: "bowl", Kind: Volume, Millilitres: 1.5 * cupMl}, "bowl", "bowls", "bowlful")
	add(Unit{Name: "plate", Kind: Volume, Millilitres: 2 * cupMl}, "plate", "plates", "plateful")
	add(Unit{Name: "shot", Kind: Volume, Millilitres: 1.5 * flOzMl}, "shot", "shots", "jigger")
	add(Unit{Name: "pint", Kind: Volume, Millilitres: pintMl}, "pint", "pints", "pt")
	add(Unit{Name: "quart", Kind: Volume, Millilitres: quartMl}, "quart", "quarts", "qt")
	for name, words := range map[string][]string{
		"slice":     {"slice", "slices", "slab", "slabs"},
		"piece":     {"piece", "pieces", "pc", "pcs", "chunk", "chunks", "bite", "bites"},
		"handful":   {"handful", "handfuls"},
		"can":       {"can", "cans", "tin", "tins"},
		"bottle":    {"bottle", "bottles"},
		"pat":       {"pat", "pats", "knob", "knobs"},
		"fillet":    {"fillet", "fillets", "filet", "filets"},
		"serving":   {"serving", "servings", "portion", "portions", "helping", "helpings"},
		"scoop":     {"scoop", "scoops"},
		"stick":     {"stick", "sticks"},
		"clove":     {"clove", "cloves"},
		"strip":     {"strip", "strips", "rasher", "rashers"},
		"packet":    {"packet", "packets", "pack", "packs", "sachet", "sachets", "bag", "bags"},
		"container": {"container", "containers", "tub", "tubs", "pot", "pots", "carton", "cartons", "cup-size"},
		"bar":       {"bar", "bars"},
		"square":    {"square", "squares"},
		"wedge":     {"wedge", "wedges"},
		"link":      {"link", "links"},
		"patty":     {"patty", "patties", "pattie", "patties"},
		"leaf":      {"leaf", "leaves"},
		"sprig":     {"sprig", "sprigs"},
		"pinch":     {"pinch", "pinches", "dash", "dashes", "sprinkle"},
	} {
		add(Unit{Name: name, Kind: Count}, words...)
	}
	return units
}

// Sizes a caption may give: "a large egg", "2 small apples".
var sizes = map[string]string{
	"small": "small", "smaller": "small", "little": "small", "mini": "small", "extra small": "extra small",
	"medium": "medium", "regular": "medium", "average": "medium", "normal": "medium", "standard": "medium", "mid-size": "medium",
	"large": "large", "big": "large", "bigger": "large", "huge": "extra large", "extra large": "extra large", "xl": "extra large",
	"jumbo": "jumbo", "giant": "extra large",
}

// numberWords are amounts written as words. "a" and "an" are one.
var numberWords = map[string]float64{
	"a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
	"eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
	"fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
	"thirty": 30, "forty": 40, "fifty": 50, "hundred": 100, "half": 0.5, "quarter": 0.25, "third": 1.0 / 3,
	"dozen": 12, "couple": 2, "pair": 2, "few": 3, "several": 3, "double": 2, "triple": 3,
}
