package fakeupstream

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// mealItem is one food of a meal description.
type mealItem struct {
	Name  string `json:"name"`
	Grams int    `json:"grams"`
}

// meal is the JSON both AI upstreams answer to a photo:
// {"items":[{"name":"chicken breast","grams":150}]}.
type meal struct {
	Items []mealItem `json:"items"`
}

// maxMealItems caps the foods taken from a text.
const maxMealItems = 8

// photoMenu are the everyday foods a photo without a caption is taken to
// show, with a usual serving in grams. Every name is an SR24 alias.
var photoMenu = [...]mealItem{
	{"chicken breast", 150},
	{"rice", 180},
	{"broccoli", 90},
	{"salmon", 140},
	{"egg", 50},
	{"banana", 120},
	{"apple", 180},
	{"pasta", 200},
	{"bread", 60},
	{"oatmeal", 240},
	{"yogurt", 170},
	{"potato", 170},
	{"avocado", 70},
	{"tomato", 120},
	{"cheese", 30},
	{"steak", 200},
}

// servingScales vary a photo's servings: ¾, 1 or 1¼ of the usual.
var servingScales = [...]float64{0.75, 1, 1.25}

// knownFood is an alias with its food, for reading foods out of texts.
type knownFood struct {
	name         string // the alias, as the answer names the food
	food         sr24.Food
	defaultGrams int
}

// mealWriter writes the AI upstreams' answers: it reads food names and
// weights out of the user's text with the SR24 aliases, and chooses a meal
// for an uncaptioned photo from the photo's bytes. Its answers depend only
// on the request, so every replica and every run agree.
type mealWriter struct {
	foods    map[string]*knownFood // by normalised alias
	maxWords int                   // the most words in an alias
}

func newMealWriter(data *sr24.Dataset) (*mealWriter, error) {
	m := &mealWriter{foods: make(map[string]*knownFood)}
	for _, a := range data.Aliases() {
		key := sr24.Normalize(a.Name)
		if key == "" {
			continue
		}
		if _, dup := m.foods[key]; dup {
			continue
		}
		food, ok := data.Food(a.NDB)
		if !ok {
			continue
		}
		m.foods[key] = &knownFood{name: a.Name, food: food, defaultGrams: usualGrams(food)}
		m.maxWords = max(m.maxWords, strings.Count(key, " ")+1)
	}
	for _, item := range photoMenu {
		if _, ok := m.foods[sr24.Normalize(item.Name)]; !ok {
			return nil, fmt.Errorf("fakeupstream: photo menu food %q is not an alias of the food data", item.Name)
		}
	}
	return m, nil
}

// usualGrams is the weight assumed when a text names a food without one:
// the food's first household portion when it is a plausible serving, else
// 100 g.
func usualGrams(f sr24.Food) int {
	if len(f.Portions) > 0 {
		if g := f.Portions[0].Grams; g >= 10 && g <= 500 {
			return int(math.Round(g))
		}
	}
	return 100
}

// foundFood is a food named in a text, with its weight.
type foundFood struct {
	*knownFood
	grams int
}

// findFoods returns the foods a text names, in order and each once, with
// the weight written before them ("150 g chicken breast", "150g rice") or
// their usual weight.
func (m *mealWriter) findFoods(text string) []foundFood {
	words := strings.Fields(sr24.Normalize(text))
	var out []foundFood
	seen := make(map[string]bool)
	grams := 0
	for i := 0; i < len(words) && len(out) < maxMealItems; {
		if g, n := readGrams(words[i:]); n > 0 {
			grams, i = g, i+n
			continue
		}
		matched := false
		for n := min(m.maxWords, len(words)-i); n > 0; n-- {
			f, ok := m.foods[strings.Join(words[i:i+n], " ")]
			if !ok {
				continue
			}
			if !seen[f.name] {
				seen[f.name] = true
				g := grams
				if g == 0 {
					g = f.defaultGrams
				}
				out = append(out, foundFood{f, g})
			}
			grams, i, matched = 0, i+n, true
			break
		}
		if !matched {
			i++
		}
	}
	return out
}

// readGrams reads a weight in grams at the start of words ("150 g",
// "150g", "150 gram", "0.2 kg") and returns it with the number of words it
// took, or 0, 0.
func readGrams(words []string) (grams, used int) {
	number, unit := words[0], ""
	if i := strings.IndexFunc(number, func(r rune) bool { return r < '0' || r > '9' }); i > 0 {
		number, unit = number[:i], number[i:]
	} else if i == 0 {
		return 0, 0
	}
	used = 1
	if unit == "" && len(words) > 1 {
		unit, used = words[1], 2
	}
	v, err := strconv.Atoi(number)
	if err != nil || v <= 0 || v > 5000 {
		return 0, 0
	}
	switch unit {
	case "g", "gr", "gram":
		return v, used
	case "kg":
		if v <= 5 {
			return v * 1000, used
		}
	}
	return 0, 0
}

// describePhoto returns the meal a photo shows: the foods the caption
// names, or, when it names none, one to three foods of photoMenu chosen by
// the hash of the image bytes.
func (m *mealWriter) describePhoto(caption string, imageHash uint64) meal {
	if found := m.findFoods(caption); len(found) > 0 {
		items := make([]mealItem, len(found))
		for i, f := range found {
			items[i] = mealItem{Name: f.name, Grams: f.grams}
		}
		return meal{Items: items}
	}
	h := mix64(imageHash)
	count := 1 + int(h%3)
	h /= 3
	items := make([]mealItem, 0, count)
	used := make(map[int]bool, count)
	for range count {
		pick := int(h % uint64(len(photoMenu)))
		h /= uint64(len(photoMenu))
		for used[pick] {
			pick = (pick + 1) % len(photoMenu)
		}
		used[pick] = true
		scale := servingScales[h%uint64(len(servingScales))]
		h /= uint64(len(servingScales))
		item := photoMenu[pick]
		item.Grams = int(math.Round(float64(item.Grams)*scale/5) * 5)
		items = append(items, item)
	}
	return meal{Items: items}
}

// mealJSON is the assistant's content for a photo.
func (m *mealWriter) mealJSON(caption string, imageHash uint64) string {
	body, err := json.Marshal(m.describePhoto(caption, imageHash))
	if err != nil { // a meal always marshals
		return `{"items":[]}`
	}
	return string(body)
}

// answerText is the assistant's short answer to a text without a photo:
// the nutrition of the foods it names, or how to ask.
func (m *mealWriter) answerText(text string) string {
	found := m.findFoods(text)
	if len(found) == 0 {
		return "I can estimate the nutrition of a meal. Send a photo of it, or tell me what you ate and how much, in grams."
	}
	var b strings.Builder
	total := 0.0
	for _, f := range found {
		n := f.food.Per100g.Scale(float64(f.grams))
		total += n.EnergyKcal
		fmt.Fprintf(&b, "%d g %s: about %.0f kcal, %.1f g protein, %.1f g carbohydrate, %.1f g fat. ",
			f.grams, f.name, n.EnergyKcal, n.ProteinG, n.CarbohydrateG, n.FatG)
	}
	if len(found) > 1 {
		fmt.Fprintf(&b, "Total: about %.0f kcal.", total)
	}
	return strings.TrimSpace(b.String())
}
