package meal

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

//go:embed dishes.txt
var dishesFile []byte

// Dish is a mixed dish as a recipe of SR24 foods: "spaghetti bolognese"
// is spaghetti, marinara, ground beef, olive oil and parmesan.
type Dish struct {
	// Name is the dish's name; Names all the names it goes by.
	Name  string
	Names []string
	// Unit is what Components weigh: one "serving", "slice", "piece",
	// "bowl".
	Unit string
	// Usual is the number of units eaten when a caption gives no amount;
	// Each the number of units in one dish counted ("a pizza": 8 slices).
	Usual, Each float64
	// Units are other units of the dish, in base units ("roll": 6 pieces).
	Units map[string]float64
	// Components are the foods of one unit.
	Components []Component

	slot   *slot // a template's food, nil for a fixed dish
	line   int
	prefix []string // a template's words before and after "*"
	suffix []string
}

// Component is one food of a dish, by NDB number, with its weight.
type Component struct {
	NDB   string
	Grams float64
	// What names the food in the recipe: "romaine (3 cups shredded)".
	What string
	// Filling marks a template's food: its weight follows the filling rule
	// when Grams is 0.
	Filling bool
}

// slot is the food a template names.
type slot struct {
	def    string          // NDB of the food when the name gives none
	groups map[string]bool // allowed food groups; nil means any
}

// grams returns the weight of one unit of the dish.
func (d *Dish) grams() float64 {
	total := 0.0
	for _, c := range d.Components {
		total += c.Grams
	}
	return total
}

// dishBook holds the dishes, found by name.
type dishBook struct {
	fixed     map[string]*Dish // by normalised name
	byWords   map[string]*Dish // by the sorted set of a name's words
	templates []*Dish          // one entry per template name
}

// loadDishes reads dishes.txt, checking every food against data. A
// template's names without "*" ("burrito") name the template filled with
// its default food.
func loadDishes(data *sr24.Dataset, foods map[string]*food) (*dishBook, error) {
	b := &dishBook{fixed: make(map[string]*Dish), byWords: make(map[string]*Dish)}
	sc := bufio.NewScanner(bytes.NewReader(dishesFile))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		d, err := parseDish(text, line, data)
		if err != nil {
			return nil, err
		}
		fixed := d
		if d.slot != nil && d.slot.def != "" {
			fixed = fill(d, []*food{foods[d.slot.def]})
			fixed.Name = d.Name
		}
		for _, name := range d.Names {
			if d.slot != nil && !strings.Contains(name, "*") && d.slot.def == "" {
				return nil, fmt.Errorf("meal: dishes.txt:%d: name %q of a template without a default food", line, name)
			}
			if strings.Contains(name, "*") {
				t := *d
				words := strings.Fields(sr24.Normalize(strings.ReplaceAll(name, "*", " slotword ")))
				for i, w := range words {
					if w == "slotword" {
						t.prefix, t.suffix = words[:i], words[i+1:]
					}
				}
				b.templates = append(b.templates, &t)
				continue
			}
			key := sr24.Normalize(name)
			if prev, dup := b.fixed[key]; dup {
				return nil, fmt.Errorf("meal: dishes.txt:%d: %q is already a name of the dish on line %d", line, name, prev.line)
			}
			b.fixed[key] = fixed
			b.byWords[wordSet(key)] = fixed
		}
	}
	return b, sc.Err()
}

// parseDish reads one line of dishes.txt.
func parseDish(text string, line int, data *sr24.Dataset) (*Dish, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("meal: dishes.txt:%d: %s", line, fmt.Sprintf(format, args...))
	}
	parts := strings.Split(text, "|")
	if len(parts) != 3 {
		return nil, bad("want names | units | components, got %d fields", len(parts))
	}
	d := &Dish{Usual: 1, Each: 1, Units: map[string]float64{}, line: line}
	for _, n := range strings.Split(parts[0], ";") {
		if n = strings.TrimSpace(n); n != "" {
			d.Names = append(d.Names, n)
		}
	}
	if len(d.Names) == 0 {
		return nil, bad("no name")
	}
	d.Name = d.Names[0]
	isTemplate := strings.Contains(parts[0], "*")
	if isTemplate {
		d.slot = &slot{}
	}
	for i, u := range strings.Split(parts[1], ";") {
		u = strings.TrimSpace(u)
		f := strings.Fields(u)
		switch {
		case i == 0:
			if len(f) != 1 {
				return nil, bad("unit %q: want one word", u)
			}
			d.Unit = f[0]
		case len(f) == 2 && (f[0] == "usual" || f[0] == "each"):
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil || v <= 0 {
				return nil, bad("%q: want a positive number", u)
			}
			if f[0] == "usual" {
				d.Usual = v
			} else {
				d.Each = v
			}
		case len(f) == 2 && f[0] == "default" && isTemplate:
			if _, ok := data.Food(f[1]); !ok {
				return nil, bad("default %q is not an SR24 food", f[1])
			}
			d.slot.def = f[1]
		case len(f) > 1 && f[0] == "only" && isTemplate:
			d.slot.groups = make(map[string]bool)
			for _, g := range f[1:] {
				d.slot.groups[g] = true
			}
		case len(f) == 1 && strings.Contains(f[0], "="):
			name, n, _ := strings.Cut(f[0], "=")
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v <= 0 {
				return nil, bad("unit %q: want NAME=N with N positive", f[0])
			}
			d.Units[name] = v
		default:
			return nil, bad("unit spec %q not understood", u)
		}
	}
	for _, c := range strings.Split(parts[2], ";") {
		f := strings.Fields(c)
		if len(f) < 2 {
			return nil, bad("component %q: want NDB grams what", c)
		}
		comp := Component{What: strings.Join(f[2:], " ")}
		if f[0] == "*" {
			if !isTemplate {
				return nil, bad("component %q: * in a dish that is no template", c)
			}
			comp.Filling = true
			if f[1] != "filling" {
				v, err := strconv.ParseFloat(f[1], 64)
				if err != nil || v <= 0 {
					return nil, bad("component %q: want * grams or * filling", c)
				}
				comp.Grams = v
			}
		} else {
			food, ok := data.Food(f[0])
			if !ok {
				return nil, bad("component %q: %q is not an SR24 food", c, f[0])
			}
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil || v <= 0 {
				return nil, bad("component %q: want a positive weight in grams", c)
			}
			comp.NDB, comp.Grams = f[0], v
			if comp.What == "" {
				comp.What = food.Description
			}
		}
		d.Components = append(d.Components, comp)
	}
	return d, nil
}

// wordSet is the sorted, distinct words of a normalised name without
// joining words, so that "chicken caesar salad" and "caesar salad with
// chicken" agree.
func wordSet(key string) string {
	seen := make(map[string]bool)
	var words []string
	for _, w := range strings.Fields(key) {
		if joiningWords[w] || seen[w] {
			continue
		}
		seen[w] = true
		words = append(words, w)
	}
	slices.Sort(words)
	return strings.Join(words, " ")
}

// joiningWords join the names of foods: "rice and beans", "salad with
// chicken", "cup of tea".
var joiningWords = map[string]bool{"and": true, "with": true, "of": true, "in": true, "on": true, "n": true, "a": true, "the": true}
