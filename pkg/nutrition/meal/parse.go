package meal

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// Item is one food of a meal, as a caption names it.
type Item struct {
	// Text is the part of the caption the item was read from: "2 large
	// eggs".
	Text string
	// Name is the food's name as the caption writes it: "eggs".
	Name string
	// Quantity is the amount the caption gives, if any.
	Quantity Quantity
	// Known: the name was matched to a food or a dish. An unknown item has
	// no weight, no food and no confidence.
	Known bool
	// Food is what the name was taken to be: the USDA description of a
	// food ("Egg, whole, cooked, hard-boiled") or the name of a dish.
	Food string
	// NDB is the SR24 food's number, for a single food.
	NDB string
	// Dish is the dish's name, for a dish.
	Dish string
	// Grams is the weight of the item, and Portion how it was found ("2 ×
	// \"1 large\" (50 g)").
	Grams   float64
	Portion string
	// Components are the foods of the item with their weights: one for a
	// single food, the recipe scaled for a dish.
	Components []Component
	// How says how the name was matched, and Confidence how sure the match
	// is, from 0 to 1 (see MinConfidence).
	How        How
	Confidence float64

	dish *Dish // the dish's recipe, for a dish
}

// Uncertain reports whether the item is known but matched with a
// confidence below MinConfidence: an answer should say so, and nobody
// should cache it as the food the name means. (A weight found by a general
// rule rather than the food's own measure caps the confidence at 0.9.)
func (it Item) Uncertain() bool { return it.Known && it.Confidence < MinConfidence }

// Parser reads meal captions into foods and grams, with the USDA SR24
// foods, their household measures and a curated set of dishes. It is safe
// for concurrent use.
type Parser struct {
	m *matcher
}

// New returns a parser over data.
func New(data *sr24.Dataset) (*Parser, error) {
	m, err := newMatcher(data)
	if err != nil {
		return nil, err
	}
	return &Parser{m: m}, nil
}

// MaxItems is the most items Parse reads from one caption.
const MaxItems = 20

// Parse reads a caption into its items, in order. A part of the caption
// naming no known food is an item with Known false. The error is an
// *InputError for text that is not valid UTF-8, holds a control character,
// or gives an amount that is not positive, not a number, or absurd.
func (p *Parser) Parse(caption string) ([]Item, error) {
	if err := Validate(caption); err != nil {
		return nil, err
	}
	toks := lex(caption)
	var items []Item
	for _, chunk := range splitBreaks(toks) {
		got, err := p.parseChunk(caption, chunk)
		if err != nil {
			return nil, err
		}
		for _, it := range got {
			if len(items) > 0 && it.Name == "" && it.Quantity.Amount > 0 {
				// "coffee, 2 cups": an amount alone belongs to the food before.
				prev := &items[len(items)-1]
				if prev.Quantity.Amount == 0 {
					redone, err := p.item(prev.Text+" "+it.Text, prev.Name, nameWords(prev.Name), it.Quantity, false, false)
					if err != nil {
						return nil, err
					}
					*prev = redone
					continue
				}
			}
			if it.Name == "" && it.Quantity.Amount > 0 {
				it.Known = false
			}
			items = append(items, it)
		}
	}
	if len(items) > MaxItems {
		return nil, &InputError{Reason: fmt.Sprintf("the caption names %d foods, more than %d", len(items), MaxItems)}
	}
	return items, nil
}

// splitBreaks splits tokens at separators.
func splitBreaks(toks []token) [][]token {
	var out [][]token
	start := 0
	for i, t := range toks {
		if t.kind == tokBreak {
			if i > start {
				out = append(out, toks[start:i])
			}
			start = i + 1
		}
	}
	if start < len(toks) {
		out = append(out, toks[start:])
	}
	return out
}

// conjunctions join foods within a chunk: "eggs and toast", "rice with
// beans", "coffee plus a muffin", "eggs on toast".
var conjunctions = map[string]bool{"and": true, "with": true, "plus": true, "on": true, "alongside": true, "n": true, "in": true}

// piece is a candidate item of a chunk.
type piece struct {
	item  Item
	value float64
	err   error
}

// parseChunk reads a chunk (the text between separators) into items,
// choosing where to split it at "and", "with"… so that every part names a
// known food, and a dish or an alias is kept whole: "mac and cheese",
// "caesar salad with chicken".
func (p *Parser) parseChunk(caption string, toks []token) ([]Item, error) {
	var cuts []int // indexes of conjunction tokens
	for i, t := range toks {
		if i > 0 && i < len(toks)-1 && t.kind == tokWord && conjunctions[t.text] {
			cuts = append(cuts, i)
		}
	}
	if len(cuts) > 8 {
		cuts = cuts[:8]
	}
	// Boundaries: the chunk's start, each cut, its end. Piece (a, b) spans
	// from after boundary a to before boundary b.
	bounds := append(append([]int{-1}, cuts...), len(toks))
	cache := make(map[[2]int]piece)
	pieceAt := func(a, b int) piece {
		if pc, ok := cache[[2]int{a, b}]; ok {
			return pc
		}
		from, to := bounds[a]+1, bounds[b]
		var pc piece
		if from >= to {
			pc.value = math.Inf(-1)
		} else {
			joined := b - a - 1
			it, err := p.piece(caption, toks[from:to], a > 0 && toks[bounds[a]].text == "on")
			pc.item, pc.err = it, err
			switch {
			case err != nil:
				pc.value = math.Inf(-1)
			case !it.Known && it.Name == "":
				pc.value = -0.2 // an amount alone
			case !it.Known:
				pc.value = -1.5
			case it.How == ByName:
				pc.value = it.Confidence + 0.5*float64(joined)
			case it.How == ByTemplate:
				pc.value = it.Confidence + 0.3*float64(joined)
			default:
				pc.value = it.Confidence
			}
		}
		cache[[2]int{a, b}] = pc
		return pc
	}
	n := len(bounds) - 1
	// A bad amount anywhere is an error of the caption, whatever reading
	// would hide it ("rice and 0 g beans" is no food named "rice and 0 g
	// beans").
	for a := 0; a < n; a++ {
		if pc := pieceAt(a, a+1); pc.err != nil {
			return nil, pc.err
		}
	}
	best := make([]float64, n+1)
	from := make([]int, n+1)
	for b := 1; b <= n; b++ {
		best[b] = math.Inf(-1)
		for a := 0; a < b; a++ {
			if math.IsInf(best[a], -1) && a > 0 {
				continue
			}
			v := best[a] + pieceAt(a, b).value - 0.9*float64(min(a, 1))
			if v > best[b] {
				best[b], from[b] = v, a
			}
		}
	}
	if math.IsInf(best[n], -1) {
		return nil, nil
	}
	var out []Item
	var joins []token // the conjunction before each item; the zero token before the first
	for b := n; b > 0; b = from[b] {
		a := from[b]
		out = append([]Item{pieceAt(a, b).item}, out...)
		var join token
		if a > 0 {
			join = toks[bounds[a]]
		}
		joins = append([]token{join}, joins...)
	}
	for i := 1; i < len(out); i++ {
		if joins[i].text != "on" {
			continue
		}
		// "a turkey sandwich on rye": the bread of the sandwich, not a
		// second food.
		merged, ok, err := p.onBread(out[i-1], out[i], caption[joins[i].start:joins[i].end])
		if err != nil {
			return nil, err
		}
		if ok {
			out[i-1] = merged
			out = append(out[:i], out[i+1:]...)
			joins = append(joins[:i], joins[i+1:]...)
			i--
		}
	}
	for i := 1; i < len(out); i++ {
		if joins[i].text == "with" || joins[i].text == "in" {
			out[i] = p.addition(out[i-1], out[i])
		}
	}
	return out, nil
}

// onBread reads "<a sandwich> on <a bread>": the bread is the sandwich's
// own, not a second food. A dish made with bread (a sandwich, a grilled
// cheese, a toast, a burger of the dishes) takes the bread named in place
// of its own: as many slices as it had (each the new bread's slice of
// about the same size), or one piece of a bread that comes in pieces (a
// bun, a bagel, a croissant), or the amount written ("on 3 slices of
// rye"). A sandwich or a burger sold whole (an SR24 fast food) already
// holds its bread. It reports false when main holds no bread or the food
// after "on" is no bread ("eggs on toast" are two foods); the error is an
// *InputError for a sandwich that now weighs more than MaxGrams.
func (p *Parser) onBread(main, bread Item, on string) (Item, bool, error) {
	if !main.Known || !bread.Known || bread.dish != nil {
		return Item{}, false, nil
	}
	bf := p.m.foods[bread.NDB]
	if bf == nil || !bf.bread {
		return Item{}, false, nil
	}
	text := main.Text + " " + on + " " + bread.Text
	if main.dish == nil {
		f := p.m.foods[main.NDB]
		if f == nil || !f.sandwich {
			return Item{}, false, nil
		}
		main.Text = text
		main.Portion += fmt.Sprintf("; on %s: the bread it is sold with", bread.Name)
		return main, true, nil
	}
	bi := p.m.breadOf(main.dish)
	if bi < 0 || main.dish.Components[bi].Grams <= 0 {
		return Item{}, false, nil
	}
	old := main.dish.Components[bi]
	units := main.Components[bi].Grams / old.Grams // dishes of the item
	var grams float64
	var how string
	if q := bread.Quantity; q.Unit.Name != "" || q.Amount > 1 {
		grams, how = bread.Grams, bread.Portion
	} else {
		per := p.m.foods[old.NDB].breadFor(old.Grams, bf)
		grams, how = units*per.Grams, per.How
		if units != 1 {
			how = formatAmount(units) + " × (" + how + ")"
		}
	}
	comps := slices.Clone(main.Components)
	comps[bi] = Component{NDB: bf.NDB, Grams: grams, What: strings.ToLower(bf.Description) + " (" + how + ")"}
	total := 0.0
	for _, c := range comps {
		total += c.Grams
	}
	main.Text, main.Components, main.Grams = text, comps, total
	main.Portion += fmt.Sprintf("; on %s: %s in place of %s", bread.Name, how, old.What)
	main.Confidence = min(main.Confidence, bread.Confidence)
	if err := checkAmount(text, Quantity{}, total); err != nil {
		return Item{}, false, err
	}
	return main, true, nil
}

// addition weighs a food added to another with "with" and no amount of
// its own: milk in coffee is a splash (2 tbsp), on cereal half a cup;
// fruit on oatmeal is half its usual portion, granola or nuts on yogurt a
// quarter.
func (p *Parser) addition(main, it Item) Item {
	q := it.Quantity
	if !it.Known || it.Dish != "" || q.Amount != 0 || q.Unit.Name != "" || q.Size != "" {
		return it
	}
	f, base := p.m.foods[it.NDB], p.m.foods[main.NDB]
	var portion Portion
	switch {
	case f.dairyLiquid && base != nil && base.beverage:
		portion = f.volume(2, unitTbsp)
		portion.How = "a splash in a drink: " + portion.How
	case f.dairyLiquid && base != nil && base.NDB[:2] == "08":
		portion = f.volume(0.5, unitCup)
		portion.How = "on cereal: " + portion.How
	case f.NDB[:2] == "09" && !f.beverage, f.NDB[:2] == "08", f.snack:
		k := 0.5
		if !f.produce() {
			k = 0.25
		}
		tp, _ := f.typical()
		portion = Portion{Grams: tp.Grams * k, How: fmt.Sprintf("a topping: %s × %s", formatAmount(k), tp.How), Exact: tp.Exact}
	default:
		return it
	}
	it.Grams, it.Portion = portion.Grams, portion.How
	it.Components = []Component{{NDB: f.NDB, Grams: portion.Grams, What: f.Description}}
	return it
}

// conversationWords start or end a caption without naming food: "for
// lunch I had…", "…this morning".
var conversationWords = map[string]bool{
	"i": true, "ive": true, "i've": true, "im": true, "we": true, "had": true, "have": true, "has": true,
	"having": true, "ate": true, "eaten": true, "eat": true, "eating": true, "drank": true, "drunk": true,
	"for": true, "breakfast": true, "lunch": true, "dinner": true, "supper": true, "brunch": true, "snack": true,
	"snacks": true, "today": true, "tonight": true, "yesterday": true, "morning": true, "afternoon": true,
	"evening": true, "this": true, "just": true, "also": true, "then": true, "about": true, "around": true,
	"roughly": true, "approximately": true, "approx": true, "maybe": true, "like": true, "served": true,
	"topped": true, "along": true, "side": true, "my": true, "meal": true, "was": true, "were": true, "is": true,
	"it": true, "there": true, "please": true, "some": true, "the": true, "of": true, "with": true, "and": true,
	"on": true, "in": true, "at": true, "a": true, "an": true, "to": true, "from": true, "what": true, "how": true,
	"many": true, "much": true, "calories": true, "kcal": true, "nutrition": true, "only": true, "extra": true,
	"little": true, "bit": true, "lots": true, "lot": true, "plenty": true, "bunch": true,
}

// leadingWords start a caption without naming food or an amount: "I
// had", "just ate", "for lunch".
var leadingWords = map[string]bool{
	"i": true, "ive": true, "i've": true, "im": true, "we": true, "had": true, "have": true, "ate": true, "eaten": true,
	"drank": true, "just": true, "also": true, "then": true, "today": true, "tonight": true, "yesterday": true,
	"finally": true, "and": true, "plus": true, "with": true, "for": true, "got": true, "grabbed": true,
}

// mealWords are the meals "for" may name: "for lunch".
var mealWords = map[string]bool{"breakfast": true, "lunch": true, "dinner": true, "supper": true, "brunch": true, "snack": true, "dessert": true}

// piece reads one item: an amount before or after a food's name. bread:
// the item is in the place of a bread ("on rye"; see matcher.breadForm).
func (p *Parser) piece(caption string, toks []token, bread bool) (Item, error) {
	for len(toks) > 1 && toks[0].kind == tokWord && (leadingWords[toks[0].text] || mealWords[toks[0].text] && len(toks) > 1 && (toks[1].kind != tokWord || !isFoodWordAfterMeal(toks[1].text))) {
		toks = toks[1:]
	}
	text := strings.TrimSpace(caption[toks[0].start:toks[len(toks)-1].end])
	q, rest, err := leadingQuantity(toks)
	if err != nil {
		return Item{}, err
	}
	if q.Amount == 0 && q.Size == "" && q.Unit.Name == "" {
		var tq Quantity
		tq, rest, err = trailingQuantity(rest)
		if err != nil {
			return Item{}, err
		}
		q = tq
	}
	var words []string
	var other []string
	for _, t := range rest {
		switch t.kind {
		case tokWord:
			words = append(words, t.text)
		case tokBad:
			return Item{}, badAmount(t.text)
		case tokNumber:
			words = append(words, t.text) // no amount here: part of a name nobody knows
		case tokOther:
			other = append(other, t.text)
		}
	}
	plural := len(words) > 0 && isPlural(words[len(words)-1])
	name := strings.Join(trimConversation(words), " ")
	if name == "" && len(other) > 0 {
		name = strings.Join(other, " ")
	}
	return p.item(text, name, words, q, plural && q.Amount == 0 && q.Size == "" && q.Unit.Name == "", bread)
}

// isFoodWordAfterMeal reports whether a word after a meal's name makes a
// food of it: "breakfast sausage", "breakfast burrito".
func isFoodWordAfterMeal(w string) bool {
	return w == "sausage" || w == "burrito" || w == "sandwich" || w == "bar" || w == "cereal" || w == "roll"
}

// nameWords splits a name back into words.
func nameWords(name string) []string { return strings.Fields(name) }

// trimConversation drops words that are no food from both ends of a name.
func trimConversation(words []string) []string {
	for len(words) > 0 && conversationWords[words[0]] {
		words = words[1:]
	}
	for len(words) > 0 && conversationWords[words[len(words)-1]] {
		words = words[:len(words)-1]
	}
	return words
}

// item matches a name and weighs the quantity of it. plural is a plural
// name with no amount ("eggs"), which means a couple of pieces; bread, a
// name in the place of a bread ("on rye"), which a slice of something
// is too.
func (p *Parser) item(text, name string, words []string, q Quantity, plural, bread bool) (Item, error) {
	it := Item{Text: text, Name: name, Quantity: q}
	if name == "" {
		return it, nil
	}
	r, ok := p.m.match(words)
	if clean := trimConversation(words); !ok || r.score < confidenceName {
		if len(clean) > 0 && len(clean) < len(words) {
			if r2, ok2 := p.m.match(clean); ok2 && (!ok || r2.score > r.score) {
				r, ok = r2, true
			}
		}
	}
	if n := len(words); q.Unit.Name == "" && n > 1 && (!ok || r.score < confidenceName) {
		// "a salmon fillet", "a chocolate bar": the unit after the food.
		if u, isUnit := units[words[n-1]]; isUnit && (u.Kind == Count || u.Name == "bowl" || u.Name == "glass" || u.Name == "cup" || u.Name == "mug") {
			if r2, ok2 := p.m.match(words[:n-1]); ok2 && (!ok || r2.score > r.score) {
				r, ok = r2, true
				q.Unit = u
				if q.Amount == 0 {
					q.Amount = 1
				}
				it.Quantity = q
				plural = false
			}
		}
	}
	if bread || q.Unit.Name == "slice" {
		r, ok = p.m.breadForm(words, r, ok)
	}
	if ok && r.dish != nil && (q.Unit.Name == "can" || slices.ContainsFunc(words, func(w string) bool { return cannedWords[w] })) {
		// "canned spaghetti and meatballs", "a can of ravioli": not the
		// home-made dish.
		if r2, ok2 := p.m.canned(words); ok2 {
			r = r2
		}
	}
	if !ok {
		return it, nil
	}
	it.Known, it.How, it.Confidence = true, r.how, r.score
	var portion Portion
	switch {
	case r.dish != nil:
		it.Dish, it.Food = r.dish.Name, r.dish.Name
		if q.Unit.Name == "" {
			// "a salmon roll": the name says the dish's unit.
			for _, w := range normalizeWords(words) {
				if w == r.dish.Unit || r.dish.Units[w] > 0 {
					q.Unit = Unit{Name: w, Kind: Count}
				}
			}
		}
		var comps []Component
		portion, comps = dishPortion(r.dish, q)
		it.Components, it.dish = comps, r.dish
	default:
		f := r.food
		it.Food, it.NDB = f.Description, f.NDB
		portion = p.foodPortion(f, q, words, plural)
		it.Components = []Component{{NDB: f.NDB, Grams: portion.Grams, What: f.Description}}
	}
	if !portion.Exact {
		it.Confidence = min(it.Confidence, 0.9)
	}
	if portion.Guess {
		it.Confidence = min(it.Confidence, confidenceGuess)
	}
	it.Grams, it.Portion = portion.Grams, portion.How
	if err := checkAmount(text, q, it.Grams); err != nil {
		return Item{}, err
	}
	return it, nil
}

// foodPortion weighs a quantity of a food, using a measure the name
// itself gives ("cherry tomatoes": one cherry tomato each).
func (p *Parser) foodPortion(f *food, q Quantity, words []string, plural bool) Portion {
	if q.Unit.Name == "" && (q.Amount > 0 || plural && !f.produce()) {
		if m, ok := f.named(normalizeWords(words), q.Size); ok && (q.Amount > 0 || pieceGrams(m) >= minPortion) {
			n := q.Amount
			if n == 0 {
				n = 2
			}
			return scale(piecePortion(m), n)
		}
	}
	if plural && !f.produce() {
		// "eggs", "pancakes": a couple; but "carrots" or "potatoes" on a
		// plate are a side of them, the usual portion.
		if tp, isPiece := f.typical(); isPiece && !f.orderSized() {
			return scale(tp, 2)
		}
	}
	return f.grams(q)
}

// orderSized reports whether the food is a fast-food or restaurant order,
// whose sizes are orders, not pieces: "fries" is one order.
func (f *food) orderSized() bool {
	g := f.NDB[:2]
	return g == "21" || g == "36"
}

// normalizeWords normalises each word: "tomatoes" → "tomato".
func normalizeWords(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = sr24.Normalize(w)
	}
	return out
}

// dishPortion weighs a quantity of a dish and scales its recipe.
func dishPortion(d *Dish, q Quantity) (Portion, []Component) {
	per := d.grams()
	units := d.Usual
	how := ""
	guess := false
	switch q.Unit.Kind {
	case Mass:
		g := max(q.Amount, 1) * q.Unit.Grams
		if q.Amount == 0 {
			g = q.Unit.Grams
		}
		units = g / per
		how = fmt.Sprintf("%s %s", formatAmount(max(q.Amount, 1)), q.Unit.Name)
	case Volume, Count:
		amount := q.Amount
		if amount == 0 {
			amount = 1
		}
		switch {
		case q.Unit.Name == d.Unit:
			units = amount
		case d.Units[q.Unit.Name] > 0:
			units = amount * d.Units[q.Unit.Name]
		case q.Unit.Kind == Volume && !servingContainers[q.Unit.Name]:
			// A dish's volume: about its weight in water, a guess.
			units = amount * q.Unit.Millilitres / per
			guess = true
		default:
			units = amount * d.Usual // "a serving", "a plate", "a bowl": the usual portion
		}
		how = fmt.Sprintf("%s %s", formatAmount(amount), q.Unit.Name)
		if guess {
			how += " weighed as water (a guess)"
		}
	default:
		switch {
		case q.Amount > 0:
			units = q.Amount * d.Each
			how = fmt.Sprintf("%s × %s %s", formatAmount(q.Amount), formatAmount(d.Each), d.Unit)
		default:
			how = fmt.Sprintf("the usual %s %s", formatAmount(d.Usual), d.Unit)
		}
	}
	exact := q.Unit.Kind != Volume || q.Unit.Name == d.Unit || d.Units[q.Unit.Name] > 0
	if k := sizeFactors[q.Size]; q.Size != "" && q.Size != "medium" {
		units *= k
		how += fmt.Sprintf(" × %.2f (%s)", k, q.Size)
		exact = false
	}
	comps := make([]Component, len(d.Components))
	total := 0.0
	for i, c := range d.Components {
		c.Grams *= units
		comps[i] = c
		total += c.Grams
	}
	how = fmt.Sprintf("%s: %s units of %s g", how, formatAmount(units), formatGrams(per))
	return Portion{Grams: total, How: how, Exact: exact, Guess: guess}, comps
}

// checkAmount refuses amounts that are no meal.
func checkAmount(text string, q Quantity, grams float64) error {
	switch {
	case (q.Unit.Kind == Count || q.Unit.Name == "") && q.Amount > MaxPieces:
		return &InputError{Text: text, Reason: fmt.Sprintf("%s pieces is more than the %d one item may count", formatAmount(q.Amount), MaxPieces)}
	case math.IsNaN(grams) || math.IsInf(grams, 0):
		return &InputError{Text: text, Reason: "the amount is not a number"}
	case grams > MaxGrams:
		return &InputError{Text: text, Reason: fmt.Sprintf("the amount comes to %.0f g, more than the %d g one item of a meal may weigh", grams, MaxGrams)}
	}
	return nil
}
