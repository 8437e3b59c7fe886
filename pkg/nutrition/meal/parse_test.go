package meal

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestParseAmountsAndPortions(t *testing.T) {
	p := newParser(t)
	tests := []struct {
		caption string
		ndb     string  // the food of the only item
		grams   float64 // its weight
	}{
		{"2 large eggs", "01129", 100},
		{"an egg", "01129", 50},
		{"a couple of eggs", "01129", 100},
		{"eggs", "01129", 100}, // a plural without amount: a couple
		{"eggs x3", "01129", 150},
		{"3x eggs", "01129", 150},
		{"a medium banana", "09040", 118},
		{"banana 1", "09040", 118},
		{"one small apple", "09003", 149},
		{"1 cup of rice", "20045", 158},
		{"a bowl of rice", "20045", 237},
		{"rice 200g", "20045", 200},
		{"200 grams of rice", "20045", 200},
		{"0.2 kg rice", "20045", 200},
		{"1,5 cups rice", "20045", 237},
		{"1 1/2 cups rice", "20045", 237},
		{"1½ cups rice", "20045", 237},
		{"one and a half cups of rice", "20045", 237},
		{"2-3 eggs", "01129", 125},
		{"half an avocado", "09037", 100.5},
		{"½ avocado", "09037", 100.5},
		{"a quarter cup of walnuts", "12155", 30},
		{"1 tbsp butter", "01001", 14.2},
		{"a pat of butter", "01001", 5},
		{"butter", "01001", 14.2},      // a spread: a tablespoon
		{"peanut butter", "16098", 16}, // idem, from its "2 tbsp"
		{"hummus", "16158", 30},        // a dip: two
		{"2 tbsp peanut butter", "16098", 32},
		{"honey", "19296", 21},
		{"sugar", "19335", 4.2}, // a teaspoon
		{"salmon 200g", "15237", 200},
		{"a salmon fillet", "15237", 178},
		{"5 oz steak", "13454", 141.7475},
		{"0.5 lb ground beef", "23575", 226.796},
		{"a steak", "13454", 292},     // a whole cut: its own "1 piece, cooked (yield from 1 lb raw meat)"
		{"a pork chop", "10042", 146}, // "1 chop without refuse (yield from 1 cooked chop…)"
		{"a glass of orange juice", "09209", 249},
		{"200 ml milk", "01077", 200 * 244 / cupMl},
		{"a cup of coffee", "14209", 237},
		{"a can of coke", "14400", 368},
		{"a large coke", "14400", 722},
		{"a glass of red wine", "14096", 147},
		{"a beer", "14003", 356},
		{"a handful of almonds", "12061", 28.35},
		{"10 almonds", "12061", 12},
		{"a handful of grapes", "09132", 75.5},
		{"a slice of bread", "18069", 28},
		{"2 slices of white bread", "18069", 56},
		{"a large pear", "09252", 230},
		{"2 cherry tomatoes", "11529", 34}, // the food's own "1 cherry"
		{"a baked potato", "11674", 173},
		{"two small potatoes", "11674", 276},
	}
	for _, tt := range tests {
		t.Run(tt.caption, func(t *testing.T) {
			items, err := p.Parse(tt.caption)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 1 || !items[0].Known || items[0].NDB != tt.ndb {
				t.Fatalf("items %+v, want one of food %s", items, tt.ndb)
			}
			if got := items[0].Grams; math.Abs(got-tt.grams) > 0.05 {
				t.Fatalf("%.2f g (%s), want %.2f g", got, items[0].Portion, tt.grams)
			}
		})
	}
}

func TestParseSplitsFoodsButKeepsDishes(t *testing.T) {
	p := newParser(t)
	tests := []struct {
		caption string
		foods   []string // Food of each item, in order
	}{
		{"two eggs and toast", []string{"Egg, whole, cooked, hard-boiled", "Bread, white, commercially prepared, toasted"}},
		{"burger and fries", []string{"Fast foods, hamburger; single, regular patty; with condiments", "Fast foods, potato, french fried in vegetable oil"}},
		{"mac and cheese", []string{"mac and cheese"}},
		{"caesar salad with chicken", []string{"chicken caesar salad"}},
		{"chicken caesar salad", []string{"chicken caesar salad"}},
		{"peanut butter and jelly sandwich", []string{"peanut butter and jelly sandwich"}},
		{"tofu stir fry", []string{"tofu stir fry"}},
		{"stir fry with tofu", []string{"stir fry with tofu"}},
		{"greek yogurt with honey", []string{"Yogurt, plain, low fat, 12 grams protein per 8 ounce", "Honey"}},
		{"eggs, bacon and toast", []string{"Egg, whole, cooked, hard-boiled", "Pork, cured, bacon, cooked, broiled, pan-fried or roasted", "Bread, white, commercially prepared, toasted"}},
		{"for lunch I had a turkey sandwich and an apple", []string{"turkey sandwich", "Apples, raw, with skin"}},
		{"honey in tea", []string{"Honey", "Tea, black, brewed, prepared with tap water"}},
	}
	for _, tt := range tests {
		t.Run(tt.caption, func(t *testing.T) {
			items, err := p.Parse(tt.caption)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range items {
				got = append(got, it.Food)
			}
			if strings.Join(got, " | ") != strings.Join(tt.foods, " | ") {
				t.Fatalf("foods %q, want %q", got, tt.foods)
			}
		})
	}
}

func TestParseAdditions(t *testing.T) {
	p := newParser(t)
	tests := []struct {
		caption string
		item    int
		grams   float64
	}{
		{"a cup of coffee with milk", 1, 30},    // a splash: 2 tbsp
		{"a cup of cheerios with milk", 1, 122}, // on cereal: half a cup
		{"oatmeal with blueberries", 1, 74},     // fruit on top: half its cup
		{"toast with butter", 1, 14.2},          // a spread: a tablespoon
		{"pasta with tomato sauce", 1, 122.5},   // a sauce: half a cup
		{"chicken breast with rice", 1, 158},    // a side: its usual portion
	}
	for _, tt := range tests {
		t.Run(tt.caption, func(t *testing.T) {
			items, err := p.Parse(tt.caption)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) <= tt.item || math.Abs(items[tt.item].Grams-tt.grams) > 0.05 {
				t.Fatalf("items %+v: want item %d of %.1f g", items, tt.item, tt.grams)
			}
		})
	}
}

func TestParseDishes(t *testing.T) {
	p := newParser(t)
	tests := []struct {
		caption string
		grams   float64
	}{
		{"2 slices of pizza", 214},
		{"a slice of pizza", 107},
		{"a pizza", 856}, // a whole one: 8 slices
		{"pizza", 214},   // the usual two slices
		{"6 pieces of sushi", 168},
		{"a salmon roll", 168}, // a roll is 6 pieces
		{"a bowl of pho", 793},
		{"spaghetti bolognese", 395},
		{"300 g spaghetti bolognese", 300},
		{"half a burrito", 180},
	}
	for _, tt := range tests {
		t.Run(tt.caption, func(t *testing.T) {
			items, err := p.Parse(tt.caption)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 1 || items[0].Dish == "" || math.Abs(items[0].Grams-tt.grams) > 0.05 {
				t.Fatalf("items %+v, want one dish of %.1f g", items, tt.grams)
			}
			sum := 0.0
			for _, c := range items[0].Components {
				sum += c.Grams
			}
			if math.Abs(sum-items[0].Grams) > 0.01 {
				t.Fatalf("components weigh %.2f g, the dish %.2f g", sum, items[0].Grams)
			}
		})
	}
}

func TestParseUnknownFoodsHaveNoNumbers(t *testing.T) {
	p := newParser(t)
	for _, caption := range []string{"200 g zorblax", "🍕🍕🍕", "' OR 1=1 --", "qwertyuiop"} {
		items, err := p.Parse(caption)
		if err != nil {
			t.Fatalf("%q: %v", caption, err)
		}
		if len(items) == 0 {
			t.Fatalf("%q: no item; want the unknown food reported", caption)
		}
		for _, it := range items {
			if it.Known || it.Grams != 0 || len(it.Components) != 0 || it.Confidence != 0 {
				t.Fatalf("%q: %+v; want an unknown item without weight", caption, it)
			}
		}
	}
}

func TestParseUncertainMatches(t *testing.T) {
	p := newParser(t)
	items, err := p.Parse("zorblax rice")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || !items[0].Known || !items[0].Uncertain() || items[0].How != ByPartOfName {
		t.Fatalf("%+v: want rice, matched by part of the name and uncertain", items)
	}
	items, err = p.Parse("2 large eggs")
	if err != nil || items[0].Uncertain() {
		t.Fatalf("%+v, %v: want a certain match", items, err)
	}
}

func TestParseRefusesBadInput(t *testing.T) {
	p := newParser(t)
	tests := []struct {
		caption, want string
	}{
		{"-5 g rice", "more than 0"},
		{"0 g rice", "more than 0"},
		{"rice 0g", "more than 0"},
		{"rice and 0 g beans", "more than 0"},
		{"2 eggs with -1 toast", "more than 0"},
		{"1e308 g rice", "not a plain number"},
		{"٣ eggs", "not a plain number"}, // figures of another script: refused, not skipped
		{"۷", "not a plain number"},
		{"rice ١٠٠ g", "not a plain number"},
		{"NaN g rice", `"nan" is not a number`},
		{"inf g rice", `"inf" is not a number`},
		{"10 kg rice", "more than the 5000 g"},
		{"500 eggs", "more than the 100"},
		{"40 turkey sandwiches on bagels", "more than the 5000 g"}, // the bagels weigh more than the bread they replace
		{"rice\x00", "control character U+0000"},
		{"rice\x1b[31m", "control character U+001B"},
		{"rice \xff", "not valid UTF-8"},
		{"rice \uFFFD", "U+FFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.caption, func(t *testing.T) {
			_, err := p.Parse(tt.caption)
			var ie *InputError
			if !errors.As(err, &ie) || !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v; want an *InputError saying %q", err, tt.want)
			}
		})
	}
}

// FuzzParse: no caption makes Parse panic, and every known item weighs
// something finite within the limits.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"2 large eggs", "salmon 200g", "½ avocado", "1e308 g rice", "a bowl of pho", "x2", "2-", "1/0 cup"} {
		f.Add(s)
	}
	p := newParser(f)
	f.Fuzz(func(t *testing.T, caption string) {
		items, err := p.Parse(caption)
		if err != nil {
			return
		}
		for _, it := range items {
			if it.Known && (!(it.Grams > 0) || it.Grams > MaxGrams || math.IsNaN(it.Grams)) {
				t.Fatalf("%q: item %+v", caption, it)
			}
		}
	})
}

// FuzzFind: no question makes Find panic or hang, and every item it finds
// is known and weighs something finite within the limits.
func FuzzFind(f *testing.F) {
	for _, s := range []string{"how much protein in an egg?", "calories in 0 g rice", "a turkey sandwich on rye, 2 eggs and toast", "rice -5 g?", "٣ eggs"} {
		f.Add(s)
	}
	p := newParser(f)
	f.Fuzz(func(t *testing.T, text string) {
		items, err := p.Find(text)
		if err != nil {
			return
		}
		for _, it := range items {
			if !it.Known || it.Uncertain() || !(it.Grams > 0) || it.Grams > MaxGrams {
				t.Fatalf("%q: item %+v", text, it)
			}
		}
	})
}

// Find reads the foods a question mentions with Parse itself: a question
// and a caption agree, dish for dish and gram for gram, and a bad amount
// gets the same error in both.
func TestFindAgreesWithParse(t *testing.T) {
	p := newParser(t)
	tests := []struct {
		question, caption string
	}{
		{"How much protein is in an egg?", "1 egg"},
		{"is 1 tbsp butter a lot of fat?", "1 tbsp butter"},
		{"how many calories in 2 slices of pizza", "2 slices of pizza"},
		{"What about a medium banana and 200 ml of milk?", "a medium banana and 200 ml of milk"},
		{"Is peanut butter healthy?", "peanut butter"},
		// One dish, not a turkey, a sandwich and rye.
		{"calories in a turkey sandwich on rye", "a turkey sandwich on rye"},
		{"how much fat is in a turkey and swiss sandwich on rye?", "a turkey and swiss sandwich on rye"},
		{"is grilled cheese on sourdough bad for me", "grilled cheese on sourdough"},
		// Words that qualify a food, and an amount after it.
		{"how much protein in grilled salmon", "grilled salmon"},
		{"is rice 200g too much for dinner", "rice 200g"},
		{"carbs in eggs x3 and toast?", "eggs x3 and toast"},
		// Foods joined by commas and "with", dishes kept whole.
		{"how many calories in 2 eggs, bacon and toast", "2 eggs, bacon and toast"},
		{"what about mac and cheese with a glass of milk", "mac and cheese with a glass of milk"},
		{"calories in a bag of chips", "a bag of chips"},
	}
	for _, tt := range tests {
		t.Run(tt.question, func(t *testing.T) {
			found, err := p.Find(tt.question)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := p.Parse(tt.caption)
			if err != nil {
				t.Fatal(err)
			}
			if len(found) != len(parsed) {
				t.Fatalf("Find: %+v; Parse: %+v", found, parsed)
			}
			for i := range found {
				if found[i].Food != parsed[i].Food || math.Abs(found[i].Grams-parsed[i].Grams) > 1e-9 || len(found[i].Components) != len(parsed[i].Components) {
					t.Errorf("item %d: Find %s %.1f g, Parse %s %.1f g", i, found[i].Food, found[i].Grams, parsed[i].Food, parsed[i].Grams)
				}
			}
		})
	}
	// A bad amount is refused, never read as the usual portion: the same
	// *InputError as the caption's.
	for _, tt := range []struct{ question, caption string }{
		{"how many calories in 0 g rice", "0 g rice"},
		{"how many calories in 1e308 g rice", "1e308 g rice"},
		{"how many calories in -5 g rice", "-5 g rice"},
		{"is rice -5 g a lot?", "rice -5 g"},
		{"protein in NaN g chicken?", "NaN g chicken"},
		{"what about 12 kg rice", "12 kg rice"},
		{"and 500 eggs?", "500 eggs"},
	} {
		found, err := p.Find(tt.question)
		_, want := p.Parse(tt.caption)
		if want == nil || !errors.Is(err, ErrBadInput) || err.Error() != want.Error() {
			t.Errorf("Find(%q) = %+v, %v; want Parse's error %v", tt.question, found, err, want)
		}
	}
	if got, err := p.Find("How are you today?"); len(got) != 0 || err != nil {
		t.Errorf("Find found %+v, %v in a question about no food", got, err)
	}
	if got, err := p.Find("an egg\x00"); got != nil || !errors.Is(err, ErrBadInput) {
		t.Errorf("Find read text with a NUL: %+v, %v", got, err)
	}
	egg, _ := p.Find("How much protein is in an egg?")
	if len(egg) != 1 || egg[0].Grams != 50 {
		t.Fatalf("an egg: %+v, want one large egg of 50 g", egg)
	}
}

func TestNamedWeighsAModelsFood(t *testing.T) {
	p := newParser(t)
	it, err := p.Named("grilled chicken breast", 150)
	if err != nil || !it.Known || it.NDB != "05064" || it.Grams != 150 {
		t.Fatalf("Named(grilled chicken breast, 150) = %+v, %v", it, err)
	}
	it, err = p.Named("spaghetti bolognese", 200)
	if err != nil || it.Dish == "" || math.Abs(it.Grams-200) > 1e-9 {
		t.Fatalf("Named(spaghetti bolognese, 200) = %+v, %v", it, err)
	}
	if it, err = p.Named("zorblax", 100); err != nil || it.Known {
		t.Fatalf("Named(zorblax) = %+v, %v; want unknown", it, err)
	}
	for _, grams := range []float64{0, -1, math.NaN(), math.Inf(1), 1e9} {
		if _, err := p.Named("rice", grams); !errors.Is(err, ErrBadInput) {
			t.Errorf("Named(rice, %v): err = %v, want ErrBadInput", grams, err)
		}
	}
}

func TestLexNumbers(t *testing.T) {
	tests := []struct {
		text string
		want float64
	}{
		{"2", 2}, {"1.5", 1.5}, {"1,5", 1.5}, {"1,500", 1500}, {"1/2", 0.5}, {"½", 0.5}, {"1½", 1.5}, {"1 1/2", 1.5}, {"2-3", 2.5}, {"2 to 3", 2.5},
	}
	for _, tt := range tests {
		toks := lex(tt.text)
		if len(toks) != 1 || toks[0].kind != tokNumber || math.Abs(toks[0].value-tt.want) > 1e-9 {
			t.Errorf("lex(%q) = %+v, want one number %v", tt.text, toks, tt.want)
		}
	}
	for _, bad := range []string{"-5", "1e308", "2/0", "٣", "१२"} {
		if toks := lex(bad); len(toks) != 1 || toks[0].kind != tokBad {
			t.Errorf("lex(%q) = %+v, want one unreadable amount", bad, toks)
		}
	}
}

// "<a sandwich> on <a bread>" names the sandwich's bread: it takes the
// place of the dish's own (as many slices, or one piece of a bun or a
// bagel), and a sandwich sold whole keeps the bread it holds. A grain
// word in a bread's place is the bread.
func TestParseSandwichOnABread(t *testing.T) {
	p := newParser(t)
	tests := []struct {
		caption string
		bread   string  // the NDB of the dish's bread
		grams   float64 // its weight
	}{
		{"a turkey and swiss sandwich on rye", "18060", 64}, // 2 × "1 slice, regular", not a cup of rye grain
		{"grilled cheese on sourdough", "18029", 64},        // 2 × "1 slice, small", the slice nearest white bread's
		{"ham sandwich on whole wheat", "18075", 56},
		{"a club sandwich on wheat", "18064", 87}, // its three slices
		{"avocado toast on rye", "18060", 32},     // its one slice
		{"a ham sandwich on a bagel", "18001", 105},
		{"2 turkey sandwiches on rye", "18060", 128},
		{"a ham sandwich on 3 slices of rye", "18060", 96},
	}
	for _, tt := range tests {
		t.Run(tt.caption, func(t *testing.T) {
			items, err := p.Parse(tt.caption)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 1 || items[0].Dish == "" || items[0].Text != tt.caption {
				t.Fatalf("items %+v, want one dish", items)
			}
			sum, bread := 0.0, 0.0
			for _, c := range items[0].Components {
				sum += c.Grams
				if c.NDB == tt.bread {
					bread += c.Grams
				}
				if c.NDB == "18069" {
					t.Errorf("white bread %.1f g left beside the bread named", c.Grams)
				}
			}
			if math.Abs(bread-tt.grams) > 0.05 || math.Abs(sum-items[0].Grams) > 0.01 {
				t.Fatalf("bread %s: %.1f g, want %.1f g (item %.1f g, components %.1f g): %s", tt.bread, bread, tt.grams, items[0].Grams, sum, items[0].Portion)
			}
		})
	}
	for _, tt := range []struct {
		caption string
		foods   []string // the NDB of each item, "" for a dish
		grams   []float64
	}{
		{"a chicken sandwich on a bun", []string{"21102"}, []float64{182}}, // the bun is in it
		{"a hot dog on a bun", []string{"21118"}, []float64{98}},
		{"eggs on toast", []string{"01129", "18070"}, []float64{100, 22}}, // no sandwich: two foods
		{"turkey on rye", []string{"05168", "18060"}, []float64{85, 32}},
		{"a slice of rye", []string{"18060"}, []float64{32}},
		{"2 slices of whole wheat", []string{"18075"}, []float64{56}},
		{"a slice of ham", []string{"07029"}, []float64{28}},
	} {
		items, err := p.Parse(tt.caption)
		if err != nil {
			t.Fatalf("%q: %v", tt.caption, err)
		}
		var foods []string
		var grams []float64
		for _, it := range items {
			foods, grams = append(foods, it.NDB), append(grams, math.Round(it.Grams*10)/10)
		}
		if !slices.Equal(foods, tt.foods) || !slices.Equal(grams, tt.grams) {
			t.Errorf("%q: foods %v of %v g, want %v of %v g", tt.caption, foods, grams, tt.foods, tt.grams)
		}
	}
}

// A bag or a packet with no weight is one person's: the food's own
// single-serving packet, else its usual portion (an ounce of chips); a
// large, family or party bag is the food's largest, else a guess.
func TestParseBagsWithoutWeight(t *testing.T) {
	p := newParser(t)
	for _, tt := range []struct {
		caption   string
		ndb       string
		grams     float64
		uncertain bool
	}{
		{"a bag of chips", "19411", 28.35, false}, // not SR24's "1 bag (8 oz)"
		{"a small bag of potato chips", "19411", 28.35, false},
		{"a snack bag of pretzels", "19047", 28.35, false},
		{"2 bags of chips", "19411", 56.7, false},
		{"a packet of m&ms", "19141", 48, false}, // its own "1 package (1.69 oz)"
		{"a large bag of chips", "19411", 227, false},
		{"a family size bag of potato chips", "19411", 227, false},
		{"a party bag of pretzels", "19047", 8 * 28.35, true}, // no large bag known: a guess
	} {
		items, err := p.Parse(tt.caption)
		if err != nil || len(items) != 1 || items[0].NDB != tt.ndb || math.Abs(items[0].Grams-tt.grams) > 0.05 || items[0].Uncertain() != tt.uncertain {
			t.Errorf("%q: %+v, %v; want %s, %.2f g, uncertain %v", tt.caption, items, err, tt.ndb, tt.grams, tt.uncertain)
		}
	}
	if items, _ := p.Parse("party mix"); len(items) != 1 || items[0].Quantity.Size != "" {
		t.Errorf("party mix: %+v; want no size read from a name", items)
	}
}

// A volume of a food with no volume measure is no weight of water passed
// off as sure: a plate or a bowl is the food's own serving, another
// volume a guess that makes the item uncertain. A dish has no density: a
// plate or a bowl of it is its usual portion, a cup a guess.
func TestParseVolumesWithoutDensity(t *testing.T) {
	p := newParser(t)
	for _, tt := range []struct {
		caption   string
		grams     float64
		uncertain bool
	}{
		{"a plate of nachos", 113, false}, // "1 portion (6-8 nachos)"
		{"a bowl of nachos", 113, false},
		{"a cup of nachos", cupMl, true},
		{"a plate of lasagna", 297, false}, // "1 serving"
		{"a plate of pad thai", 389, false},
		{"a bowl of chicken curry", 292, false},
		{"a cup of chicken curry", cupMl, true},
		{"a bowl of rice", 237, false}, // a food with its own cup: 1 1/2 cups
	} {
		items, err := p.Parse(tt.caption)
		if err != nil || len(items) != 1 || math.Abs(items[0].Grams-tt.grams) > 0.05 || items[0].Uncertain() != tt.uncertain {
			t.Errorf("%q: %+v, %v; want %.1f g, uncertain %v", tt.caption, items, err, tt.grams, tt.uncertain)
		}
	}
}

// A whole cut with no amount is one piece of it, as SR24 weighs one
// cooked ("1 steak (yield from …)"); with no such measure, 3 oz.
func TestParseWholeCuts(t *testing.T) {
	p := newParser(t)
	for _, tt := range []struct {
		caption string
		ndb     string
		grams   float64
	}{
		{"a sirloin steak", "13454", 292}, // "1 piece, cooked (yield from 1 lb raw meat)"
		{"a ribeye steak", "13391", 233},  // "1 steak (yield from 233 g raw meat)"
		{"a pork chop", "10042", 146},
		{"pork chops", "10042", 292},
		{"a chicken thigh", "05098", 116}, // its own "1 thigh without skin" first
		{"a chicken breast", "05064", 86},
		{"a tuna steak", "15221", 85}, // SR24 has no tuna steak
		{"ground beef", "23575", 85},  // no cut
	} {
		items, err := p.Parse(tt.caption)
		if err != nil || len(items) != 1 || items[0].NDB != tt.ndb || math.Abs(items[0].Grams-tt.grams) > 0.05 {
			t.Errorf("%q: %+v, %v; want %s of %.0f g", tt.caption, items, err, tt.ndb, tt.grams)
		}
	}
}

// A dish is the home-made one unless the caption says canned.
func TestParseHomeMadeBeforeCanned(t *testing.T) {
	p := newParser(t)
	for _, tt := range []struct {
		caption, dish, ndb string
	}{
		{"spaghetti with meatballs", "spaghetti and meatballs", ""},
		{"spaghetti and meatballs", "spaghetti and meatballs", ""},
		{"canned spaghetti and meatballs", "", "22912"},
		{"a can of spaghetti with meatballs", "", "22912"},
	} {
		items, err := p.Parse(tt.caption)
		if err != nil || len(items) != 1 || items[0].Dish != tt.dish || items[0].NDB != tt.ndb {
			t.Errorf("%q: %+v, %v; want dish %q, food %q", tt.caption, items, err, tt.dish, tt.ndb)
		}
	}
}
