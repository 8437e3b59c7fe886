package meal

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// measure is an SR24 household portion read into its parts: "0.5 fillet"
// (178 g), "1 cup (8 fl oz)" (244 g), "1 medium (7\" to 7-7/8\" long)".
type measure struct {
	sr24.Portion
	amount float64  // the leading number: 0.5, 1, 2
	noun   string   // the measure's word: "cup", "fillet", "slice", "serving"; "" for a bare size
	size   string   // a size word of the measure, if any: "small", "medium", "large"…
	kind   UnitKind // Volume for cups, spoons and fluid ounces; Mass for oz and lb; Count otherwise
	ml     float64  // the volume of the listed amount, for Volume measures
	qual   string   // what follows the measure: "chopped", "(8 fl oz)"
	extra  string   // words of the measure after its noun: "crust not eaten" in "1 slice crust not eaten"
	yield  bool     // a yield from a raw weight ("yield from 1 lb")
	whole  bool     // a whole one does not eat at a sitting: a loaf, a head, a bird
	baby   bool     // a baby-food jar
}

// per returns the grams of one unit of the measure.
func (m measure) per() float64 { return m.Grams / m.amount }

var (
	leadingNumber = regexp.MustCompile(`^(\d+(?:\.\d+)?)(?:/(\d+))?\s+`)
	fluidOunces   = regexp.MustCompile(`(\d+(?:\.\d+)?)\s*(?:fl|lf)\.?\s*oz`)
	cupsIn        = regexp.MustCompile(`(\d+(?:\.\d+)?)(?:/(\d+))?\s*cups?\b`)
	sizeWords     = []string{"extra small", "extra large", "small", "medium", "large", "jumbo", "mini", "miniature", "big"}
)

// volumeNouns are the volume measures of household portions, in ml.
var volumeNouns = map[string]float64{
	"cup": cupMl, "cups": cupMl, "tbsp": tbspMl, "tablespoon": tbspMl, "tablespoons": tbspMl, "tsp": tspMl,
	"teaspoon": tspMl, "teaspoons": tspMl, "quart": quartMl, "pint": pintMl, "liter": 1000, "ml": 1,
	"fl oz": flOzMl, "fluid ounce": flOzMl,
}

// wholeNouns are measures of a whole that one does not eat at a sitting
// (a loaf, a head of lettuce, a whole bird) or of a container.
var wholeNouns = map[string]bool{
	"package": true, "jar": true, "box": true, "loaf": true, "head": true, "bunch": true, "quart": true,
	"pint": true, "gallon": true, "recipe": true, "roast": true, "bird": true, "rack": true, "turkey": true,
	"chicken": true, "duck": true, "goose": true, "capon": true, "back": true, "neck": true, "melon": true,
}

// readMeasure parses an SR24 portion's description.
func readMeasure(p sr24.Portion) measure {
	m := measure{Portion: p, amount: 1}
	d := strings.ToLower(strings.TrimSpace(p.Description))
	if g := leadingNumber.FindStringSubmatch(d); g != nil {
		v, _ := strconv.ParseFloat(g[1], 64)
		if g[2] != "" {
			if den, _ := strconv.ParseFloat(g[2], 64); den > 0 {
				v /= den
			}
		}
		if v > 0 {
			m.amount = v
		}
		d = d[len(g[0]):]
	}
	m.yield = strings.Contains(d, "yield")
	head, qual := d, ""
	if i := strings.IndexAny(d, ",("); i >= 0 {
		head, qual = strings.TrimSpace(d[:i]), strings.TrimSpace(d[i:])
	}
	m.qual = qual
	// A size in the measure ("1 medium", "1 potato medium") or right after
	// it ("1 slice, large", "1 bar, miniature").
	firstQual := strings.TrimSpace(strings.TrimLeft(strings.SplitN(strings.TrimPrefix(qual, ","), ",", 2)[0], " ,"))
	for _, s := range sizeWords {
		if containsPhrase(head, s) {
			m.size = canonicalSize(s)
			head = strings.TrimSpace(strings.Replace(head, s, "", 1))
			break
		}
		if strings.HasPrefix(qual, ",") && (firstQual == s || strings.HasPrefix(firstQual, s+" ")) {
			m.size = canonicalSize(s)
			break
		}
	}
	words := strings.Fields(head)
	if len(words) > 0 {
		m.noun = words[0]
		m.extra = strings.Join(words[1:], " ")
		if len(words) > 1 && (words[0] == "fl" || words[0] == "fluid" || words[0] == "nlea") {
			m.noun = words[0] + " " + words[1]
			if words[0] == "fl" || words[0] == "fluid" {
				m.noun = "fl oz"
			}
		}
	}
	switch {
	case m.noun == "oz" || m.noun == "lb" || m.noun == "g" || m.noun == "grams" || m.noun == "gram":
		m.kind = Mass
	case volumeNouns[m.noun] > 0:
		m.kind, m.ml = Volume, volumeNouns[m.noun]*m.amount
	default:
		m.kind = Count
	}
	if m.kind == Volume && m.size != "" {
		if strings.Contains(d, "fl oz") {
			m.kind = Count // a drink's cup size: "1 cup large 32 fl oz size"
		} else {
			m.size = "" // "1 cup mini chips"
		}
	}
	if f := fluidOunces.FindStringSubmatch(d); f != nil && m.kind == Count {
		if v, err := strconv.ParseFloat(f[1], 64); err == nil && v > 0 {
			m.ml = v * flOzMl * m.amount // "1 can 12 fl oz"
		}
	} else if c := cupsIn.FindStringSubmatch(d); c != nil && m.kind == Count {
		v, _ := strconv.ParseFloat(c[1], 64)
		if c[2] != "" {
			if den, _ := strconv.ParseFloat(c[2], 64); den > 0 {
				v /= den
			}
		}
		if v > 0 {
			m.ml = v * cupMl * m.amount // "1 serving 1/2 cup"
		}
	}
	m.baby = m.noun == "jar" && (strings.Contains(d, "gerber") || strings.Contains(d, "heinz") || strings.Contains(d, "beech") || strings.Contains(d, "earth's best"))
	m.whole = wholeNouns[m.noun]
	return m
}

// canonicalSize maps a size word of a portion to the sizes of captions.
func canonicalSize(s string) string {
	switch s {
	case "mini", "miniature":
		return "small"
	case "big":
		return "large"
	}
	return s
}

// containsPhrase reports whether text holds phrase as whole words.
func containsPhrase(text, phrase string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], phrase)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(phrase)
		if (j == 0 || !isLetter(text[j-1])) && (end == len(text) || !isLetter(text[end])) {
			return true
		}
		i = j + 1
	}
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' }
