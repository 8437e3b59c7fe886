package fakeupstream

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/healthagent/resilience/pkg/nutrition/meal"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// mealItem is one food of a meal description.
type mealItem struct {
	Name  string  `json:"name"`
	Grams float64 `json:"grams"`
}

// mealAnswer is the JSON both AI upstreams answer to a photo, or to a text
// when the request asks for structured output:
// {"items":[{"name":"chicken breast","grams":150}]}.
type mealAnswer struct {
	Items []mealItem `json:"items"`
}

// maxMealItems caps the foods taken from a text.
const maxMealItems = 8

// photoMenu are the everyday foods a photo without a caption is taken to
// show, with a usual serving in grams. Every name is a food the meal
// parser knows.
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

// mealWriter writes the AI upstreams' answers with the meal parser the bot
// uses itself (package meal): the foods a caption or a question names, with
// the same household portions, so the fake "model" and the bot agree; a
// meal for an uncaptioned photo chosen from the photo's bytes. Its answers
// depend only on the request, so every replica and every run agree.
type mealWriter struct {
	data   *sr24.Dataset
	parser *meal.Parser
}

func newMealWriter(data *sr24.Dataset) (*mealWriter, error) {
	p, err := meal.New(data)
	if err != nil {
		return nil, fmt.Errorf("fakeupstream: %w", err)
	}
	for _, item := range photoMenu {
		if items, err := p.Parse(item.Name); err != nil || len(items) != 1 || !items[0].Known {
			return nil, fmt.Errorf("fakeupstream: photo menu food %q is not a food the meal parser knows", item.Name)
		}
	}
	return &mealWriter{data: data, parser: p}, nil
}

// captionFoods returns the known foods a caption names, with their
// weights, at most maxMealItems.
func (m *mealWriter) captionFoods(caption string) []mealItem {
	items, err := m.parser.Parse(caption)
	if err != nil {
		return nil
	}
	var out []mealItem
	for _, it := range items {
		if it.Known && len(out) < maxMealItems {
			out = append(out, mealItem{Name: it.Name, Grams: math.Round(it.Grams*10) / 10})
		}
	}
	return out
}

// describePhoto returns the meal a photo shows: the foods the caption
// names, or, when it names none, one to three foods of photoMenu chosen by
// the hash of the image bytes.
func (m *mealWriter) describePhoto(caption string, imageHash uint64) mealAnswer {
	if found := m.captionFoods(caption); len(found) > 0 {
		return mealAnswer{Items: found}
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
		item.Grams = math.Round(item.Grams*scale/5) * 5
		items = append(items, item)
	}
	return mealAnswer{Items: items}
}

// mealJSON is the assistant's content for a meal: a photo's, or a text's
// when structured output is asked for (no image: only the foods the text
// names, maybe none).
func (m *mealWriter) mealJSON(caption string, imageHash uint64, image bool) string {
	ans := mealAnswer{Items: []mealItem{}}
	if image {
		ans = m.describePhoto(caption, imageHash)
	} else if found := m.captionFoods(caption); len(found) > 0 {
		ans.Items = found
	}
	body, err := json.Marshal(ans)
	if err != nil { // a meal always marshals
		return `{"items":[]}`
	}
	return string(body)
}

// answerText is the assistant's short answer to a text without a photo:
// the nutrition of the foods it mentions (as the bot's parser weighs
// them: "an egg" is one large egg), or how to ask.
func (m *mealWriter) answerText(text string) string {
	found, err := m.parser.Find(text)
	if err != nil {
		return "I can't read that: " + strings.TrimPrefix(err.Error(), "meal: ") + "."
	}
	if len(found) == 0 {
		return "I can estimate the nutrition of a meal. Send a photo of it, or tell me what you ate and how much, in grams."
	}
	var b strings.Builder
	total := 0.0
	for _, it := range found {
		var n sr24.Nutrients
		for _, c := range it.Components {
			f, _ := m.data.Food(c.NDB)
			n = n.Add(f.Per100g.Scale(c.Grams))
		}
		total += n.EnergyKcal
		what := it.Text
		if it.Quantity.Unit.Kind != meal.Mass {
			what = fmt.Sprintf("%s (%.0f g)", it.Text, it.Grams)
		}
		fmt.Fprintf(&b, "%s: about %.0f kcal, %.1f g protein, %.1f g carbohydrate, %.1f g fat. ",
			what, n.EnergyKcal, n.ProteinG, n.CarbohydrateG, n.FatG)
	}
	if len(found) > 1 {
		fmt.Fprintf(&b, "Total: about %.0f kcal.", total)
	}
	return strings.TrimSpace(b.String())
}
