package meal

import (
	"strings"

	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// How says how a food name was matched, from the surest to the least sure.
type How string

const (
	// ByName: the name is a dish's or a curated alias, or a USDA
	// description once normalised.
	ByName How = "name"
	// ByModifiedName: the name matched once words that change little were
	// dropped ("homemade", "grilled"), or words that change more ("fried").
	ByModifiedName How = "modified_name"
	// ByTemplate: a dish made of the food named and a recipe: "tofu stir
	// fry", "ham sandwich".
	ByTemplate How = "template"
	// BySimilarName: a USDA description or an alias similar to the name.
	BySimilarName How = "similar_name"
	// ByPartOfName: only the last words of the name matched: "zorblax
	// stew" is a stew.
	ByPartOfName How = "part_of_name"
)

// Confidence levels of the ways to match. A match below MinConfidence is
// uncertain: an answer should say so, and nobody should cache it as the
// food the name means.
const (
	MinConfidence = 0.7

	confidenceName     = 1.0
	confidenceFiller   = 0.95
	confidenceCooking  = 0.9
	confidenceTemplate = 0.85
	confidenceAltered  = 0.65
	confidencePart     = 0.5
	maxSimilar         = 0.85

	// confidenceGuess caps the confidence of an item whose weight rests on
	// a guessed density (Portion.Guess): below MinConfidence, so the item
	// is uncertain whatever its name matched.
	confidenceGuess = 0.6
)

// fillerWords say nothing about what a food is.
var fillerWords = map[string]bool{
	"fresh": true, "homemade": true, "home": true, "made": true, "organic": true, "plain": true, "leftover": true,
	"leftovers": true, "delicious": true, "tasty": true, "yummy": true, "nice": true, "good": true, "some": true,
	"of": true, "the": true, "my": true, "our": true, "little": true, "bit": true, "side": true, "whole": true,
	"regular": true, "classic": true, "simple": true, "traditional": true, "healthy": true, "quick": true,
	"serving": true, "portion": true, "piece": true, "bowl": true, "plate": true, "cup": true, "glass": true,
	"style": true, "natural": true, "pure": true, "real": true, "freshly": true, "just": true, "with": true,
}

// cookingWords change a food's nutrients little.
var cookingWords = map[string]bool{
	"grilled": true, "baked": true, "roasted": true, "roast": true, "steamed": true, "boiled": true, "cooked": true,
	"sliced": true, "chopped": true, "diced": true, "shredded": true, "cubed": true, "hot": true, "cold": true,
	"warm": true, "chilled": true, "broiled": true, "poached": true, "seared": true, "pan": true, "oven": true,
	"sauteed": true, "sautéed": true, "microwaved": true, "toasted": true, "ripe": true, "peeled": true,
	"skinless": true, "boneless": true, "lean": true, "white": true, "large": true, "small": true, "medium": true,
	"big": true, "mini": true, "thick": true, "thin": true, "raw": true, "frozen": true, "canned": true,
}

// alteringWords change a food's nutrients more: the match is uncertain.
var alteringWords = map[string]bool{
	"fried": true, "deep": true, "breaded": true, "battered": true, "crispy": true, "crunchy": true, "creamy": true,
	"buttered": true, "sweetened": true, "unsweetened": true, "salted": true, "unsalted": true, "spicy": true,
	"light": true, "low": true, "fat": true, "free": true, "reduced": true, "sugar": true, "glazed": true,
	"stuffed": true, "loaded": true, "cheesy": true, "smoked": true, "marinated": true, "bbq": true, "honey": true,
	"garlic": true, "lemon": true, "herb": true, "mixed": true, "assorted": true, "vegan": true, "vegetarian": true,
	"veggie": true, "keto": true, "gluten": true, "protein": true, "instant": true, "flavored": true, "flavoured": true,
}

// match is a food or a dish a name stands for.
type match struct {
	food    *food // the food, for a plain food
	dish    *Dish // the dish (a template with its food filled in)
	how     How
	score   float64
	matched string // the alias, description or dish name matched
}

// matcher finds the food a name means.
type matcher struct {
	data   *sr24.Dataset
	foods  map[string]*food
	dishes *dishBook
	// aliasWords finds aliases by their set of words: "breast chicken".
	aliasWords map[string]string
}

func newMatcher(data *sr24.Dataset) (*matcher, error) {
	m := &matcher{data: data, foods: make(map[string]*food, data.Len()), aliasWords: make(map[string]string)}
	for _, f := range data.Foods() {
		m.foods[f.NDB] = newFood(f)
	}
	for _, a := range data.Aliases() {
		key := wordSet(sr24.Normalize(a.Name))
		if _, dup := m.aliasWords[key]; !dup {
			m.aliasWords[key] = a.Name
		}
	}
	var err error
	m.dishes, err = loadDishes(data, m.foods)
	return m, err
}

// match finds what the words of a name (lower case) stand for: a curated
// name first (a dish, an alias, a USDA description), then the name
// without words that change little, then a template dish, then a similar
// name, then the name's last words.
func (m *matcher) match(words []string) (match, bool) {
	key := sr24.Normalize(strings.Join(words, " "))
	if key == "" {
		return match{}, false
	}
	if r, ok := m.exact(key); ok {
		return r, true
	}
	kw := strings.Fields(key)
	for _, step := range []struct {
		drop  func(string) bool
		score float64
	}{
		{func(w string) bool { return fillerWords[w] }, confidenceFiller},
		{func(w string) bool { return fillerWords[w] || cookingWords[w] }, confidenceCooking},
		{nil, confidenceTemplate},
		{func(w string) bool { return fillerWords[w] || cookingWords[w] || alteringWords[w] }, confidenceAltered},
	} {
		if step.drop == nil {
			if r, ok := m.template(kw); ok {
				return r, true
			}
			continue
		}
		rest := dropWords(kw, step.drop)
		if len(rest) == 0 || len(rest) == len(kw) {
			continue
		}
		if r, ok := m.exact(strings.Join(rest, " ")); ok {
			r.how, r.score = ByModifiedName, step.score
			return r, true
		}
	}
	if r, ok := m.similar(key); ok && r.score >= confidencePart {
		return r, true
	}
	clean := dropWords(kw, func(w string) bool { return fillerWords[w] || cookingWords[w] || alteringWords[w] })
	for i := 1; i < len(clean); i++ {
		if r, ok := m.exact(strings.Join(clean[i:], " ")); ok {
			r.how, r.score = ByPartOfName, confidencePart
			return r, true
		}
	}
	return match{}, false
}

// exact finds a fixed dish, an alias or a USDA description named key (a
// normalised name), or one with the same words in another order.
func (m *matcher) exact(key string) (match, bool) {
	return m.exactIn(key, true)
}

// exactIn is exact, among the dishes too or among SR24 foods alone.
func (m *matcher) exactIn(key string, dishes bool) (match, bool) {
	if kw := strings.Fields(key); len(kw) == 0 || joiningWords[kw[0]] || joiningWords[kw[len(kw)-1]] {
		return match{}, false // "chili with", "and rice": part of a longer name
	}
	if d, ok := m.dishes.fixed[key]; ok && dishes {
		return match{dish: d, how: ByName, score: confidenceName, matched: d.Name}, true
	}
	if fm, err := m.data.Lookup(key); err == nil && fm.How != sr24.MatchSimilar {
		return match{food: m.foods[fm.Food.NDB], how: ByName, score: confidenceName, matched: fm.Matched}, true
	}
	ws := wordSet(key)
	if d, ok := m.dishes.byWords[ws]; ok && dishes {
		return match{dish: d, how: ByName, score: confidenceName, matched: d.Name}, true
	}
	if a, ok := m.aliasWords[ws]; ok && !m.joinsFoods(key) {
		if fm, err := m.data.Lookup(a); err == nil {
			return match{food: m.foods[fm.Food.NDB], how: ByName, score: confidenceFiller, matched: fm.Matched}, true
		}
	}
	// "saltine crackers", "brie cheese", "snickers bar": a name and the
	// kind of food it is, when the food the name stands for is of that
	// kind ("banana bread" is no banana).
	if i := strings.LastIndexByte(key, ' '); i > 0 {
		kind := key[i+1:]
		if r, ok := m.exactIn(key[:i], dishes); ok && r.food != nil && strings.Contains(" "+sr24.Normalize(r.food.Description)+" ", " "+kind) {
			r.score = min(r.score, confidenceFiller)
			return r, true
		}
	}
	return match{}, false
}

// joinsFoods reports whether a normalised name joins two foods ("a hot
// dog and a bun", "a hot dog on a bun"), so that an alias of the same
// words in another order ("hot dog bun") is no reading of it: "and",
// "with", "plus" always join; "on" joins a food that holds its bread to
// the bread ("toast on rye" is rye toast, the alias).
func (m *matcher) joinsFoods(key string) bool {
	words := strings.Fields(key)
	for i, w := range words {
		switch w {
		case "and", "with", "plus", "n":
			return true
		case "on":
			r, ok := m.exact(strings.Join(words[:i], " "))
			if ok && (r.food != nil && r.food.sandwich || r.dish != nil && m.breadOf(r.dish) >= 0) {
				return true
			}
		}
	}
	return false
}

// breadOf returns the index of the dish's bread among its components, or
// -1 for a dish made without bread.
func (m *matcher) breadOf(d *Dish) int {
	for i, c := range d.Components {
		if f := m.foods[c.NDB]; f != nil && f.bread {
			return i
		}
	}
	return -1
}

// cannedWords say that a food comes from a can.
var cannedWords = map[string]bool{"canned": true, "tinned": true, "can": true, "tin": true}

// canned finds the canned food a name means once it says so ("canned
// spaghetti and meatballs"): the dishes are home-made recipes, so a name
// that says canned is an SR24 food whose description says canned too.
func (m *matcher) canned(words []string) (match, bool) {
	rest := dropWords(normalizeWords(words), func(w string) bool { return cannedWords[w] || fillerWords[w] })
	if len(rest) == 0 {
		return match{}, false
	}
	r, ok := m.exactIn(strings.Join(rest, " "), false)
	if !ok || !containsPhrase(strings.ToLower(r.food.Description), "canned") {
		return match{}, false
	}
	r.how, r.score = ByModifiedName, confidenceCooking
	return r, true
}

// breadForm reads a name in the place of a bread ("a sandwich on rye",
// "a slice of whole wheat") as the bread of that name: a cereal grain
// ("rye"), or a name matched only loosely ("whole wheat", "white"), is the
// SR24 bread named "<name> bread" when there is one. A name that surely
// means another food ("a slice of ham", "eggs on rice") stays that food.
func (m *matcher) breadForm(words []string, r match, ok bool) (match, bool) {
	if ok && r.score >= confidenceCooking && (r.dish != nil || !r.food.grain) {
		return r, ok
	}
	clean := trimConversation(words)
	if len(clean) == 0 {
		return r, ok
	}
	b, found := m.exact(sr24.Normalize(strings.Join(clean, " ") + " bread"))
	if !found || b.food == nil || !b.food.bread {
		return r, ok
	}
	b.score = min(b.score, confidenceFiller)
	return b, true
}

// template finds a template dish whose fixed words surround a food:
// "tofu stir fry", "sandwich with ham".
func (m *matcher) template(kw []string) (match, bool) {
	for _, t := range m.dishes.templates {
		if len(kw) < len(t.prefix)+len(t.suffix) || !hasPrefix(kw, t.prefix) || !hasSuffix(kw, t.suffix) {
			continue
		}
		inner := kw[len(t.prefix) : len(kw)-len(t.suffix)]
		var fillings []*food
		var names []string
		if len(dropWords(inner, func(w string) bool { return fillerWords[w] || joiningWords[w] })) == 0 {
			if t.slot.def == "" {
				continue
			}
			fillings = append(fillings, m.foods[t.slot.def])
		} else {
			// "ham and cheese omelette": one food or several.
			ok := true
			for _, part := range splitWords(inner, joiningWords) {
				f, found := m.fillingFood(part)
				if !found || t.slot.groups != nil && !t.slot.groups[f.NDB[:2]] {
					ok = false
					break
				}
				fillings = append(fillings, f)
				names = append(names, strings.Join(part, " "))
			}
			if !ok {
				continue
			}
		}
		d := fill(t, fillings)
		if len(names) > 0 {
			d.Name = strings.TrimSpace(strings.Join(t.prefix, " ") + " " + strings.Join(names, " and ") + " " + strings.Join(t.suffix, " "))
		}
		return match{dish: d, how: ByTemplate, score: confidenceTemplate, matched: d.Name}, true
	}
	return match{}, false
}

// fillingFood finds the food a template's slot names, by name alone.
func (m *matcher) fillingFood(words []string) (*food, bool) {
	words = dropWords(words, func(w string) bool { return fillerWords[w] })
	for _, ws := range [][]string{words, dropWords(words, func(w string) bool { return cookingWords[w] })} {
		if len(ws) == 0 {
			continue
		}
		if r, ok := m.exact(strings.Join(ws, " ")); ok && r.food != nil {
			return r.food, true
		}
	}
	return nil, false
}

// splitWords splits words at separators, dropping empty parts.
func splitWords(words []string, sep map[string]bool) [][]string {
	var out [][]string
	start := 0
	for i, w := range words {
		if sep[w] {
			if i > start {
				out = append(out, words[start:i])
			}
			start = i + 1
		}
	}
	if start < len(words) {
		out = append(out, words[start:])
	}
	return out
}

// fill returns a template's dish with its foods in place of "*".
func fill(t *Dish, fs []*food) *Dish {
	d := *t
	d.slot = nil
	var names []string
	for _, f := range fs {
		names = append(names, strings.ToLower(shortName(f.Description)))
	}
	d.Name = strings.TrimSpace(strings.Join(t.prefix, " ") + " " + strings.Join(names, " and ") + " " + strings.Join(t.suffix, " "))
	d.Components = nil
	for _, c := range t.Components {
		if !c.Filling {
			d.Components = append(d.Components, c)
			continue
		}
		// Several foods share the filling: each gets 2/(n+1) of it, so
		// that ham and cheese weigh more than ham alone, but not twice.
		share := 2 / float64(len(fs)+1)
		for _, f := range fs {
			fc := Component{NDB: f.NDB, Grams: c.Grams, What: strings.ToLower(f.Description)}
			if c.Grams == 0 {
				p := f.filling()
				fc.Grams, fc.What = p.Grams, fc.What+" ("+p.How+")"
			}
			fc.Grams *= share
			d.Components = append(d.Components, fc)
		}
	}
	return &d
}

// shortName is the first part of a USDA description: "Chicken" of
// "Chicken, broilers or fryers, breast…".
func shortName(description string) string {
	return strings.SplitN(description, ",", 2)[0]
}

// similar finds the alias or USDA description most like key, preferring
// names that hold every word of key and foods in the form they are eaten
// (see sr24.AsEaten).
func (m *matcher) similar(key string) (match, bool) {
	var qw []string
	for _, w := range strings.Fields(key) {
		if len(w) >= 3 && !joiningWords[w] && !conversationWords[w] && strings.IndexFunc(w, func(r rune) bool { return r >= '0' && r <= '9' }) < 0 {
			qw = append(qw, w)
		}
	}
	if len(qw) == 0 {
		return match{}, false
	}
	key = strings.Join(qw, " ")
	best, found := match{}, false
	for _, c := range m.data.Search(key, 30) {
		text := sr24.Normalize(c.Matched)
		desc := sr24.Normalize(c.Food.Description)
		tw := wordSetOf(text + " " + desc)
		covered := 0
		for _, w := range qw {
			if tw[w] || nearWord(w, tw) {
				covered++
			}
		}
		coverage := float64(covered) / float64(len(qw))
		extra := 0
		for w := range wordSetOf(text) {
			if !contains(qw, w) && !neutralDescriptionWords[w] {
				extra++
			}
		}
		s := 0.6*c.Score + 0.4*coverage - sr24.AsEaten(key, c.Food.Description) - min(0.02*float64(extra), 0.15)
		if coverage < 1 {
			s = min(s, confidenceAltered-0.05)
		}
		s = min(s, maxSimilar)
		if coverage >= 0.5 && (!found || s > best.score) {
			best, found = match{food: m.foods[c.Food.NDB], how: BySimilarName, score: s, matched: c.Matched}, true
		}
	}
	return best, found
}

// neutralDescriptionWords are the words USDA descriptions use for the
// plain form of a food.
var neutralDescriptionWords = map[string]bool{
	"raw": true, "cooked": true, "without": true, "with": true, "salt": true, "and": true, "all": true, "variety": true,
	"commercial": true, "prepared": true, "regular": true, "plain": true, "fresh": true, "type": true, "includes": true,
	"enriched": true, "boiled": true, "drained": true, "ready": true, "to": true, "serve": true, "or": true, "not": true,
	"added": true, "commercially": true, "whole": true, "meat": true, "only": true, "mature": true, "seed": true,
}

// wordSetOf returns the set of words of a normalised text.
func wordSetOf(text string) map[string]bool {
	out := make(map[string]bool)
	for _, w := range strings.Fields(text) {
		out[w] = true
	}
	return out
}

// nearWord reports whether w is one letter away from a word of the set
// (a typo, "yoghurt" for "yogurt"), for words of five letters or more.
func nearWord(w string, set map[string]bool) bool {
	if len(w) < 5 {
		return false
	}
	for t := range set {
		if editDistanceAtMostOne(w, t) {
			return true
		}
	}
	return false
}

// editDistanceAtMostOne reports whether one insertion, deletion or
// substitution turns a into b.
func editDistanceAtMostOne(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(b)-len(a) > 1 {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	if len(a) == len(b) {
		return a[i+min(1, len(a)-i):] == b[i+min(1, len(b)-i):]
	}
	return a[i:] == b[i+1:]
}

func dropWords(words []string, drop func(string) bool) []string {
	var out []string
	for _, w := range words {
		if !drop(w) {
			out = append(out, w)
		}
	}
	return out
}

func hasPrefix(words, prefix []string) bool {
	if len(prefix) > len(words) {
		return false
	}
	for i, p := range prefix {
		if words[i] != p {
			return false
		}
	}
	return true
}

func hasSuffix(words, suffix []string) bool {
	if len(suffix) > len(words) {
		return false
	}
	off := len(words) - len(suffix)
	for i, s := range suffix {
		if words[off+i] != s {
			return false
		}
	}
	return true
}
