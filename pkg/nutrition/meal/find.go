package meal

import (
	"fmt"
	"strings"
)

// maxNameWords is the most words a food's name may have in Find.
const maxNameWords = 6

// Find reads the foods a sentence mentions, for a question rather than a
// caption: "How much protein is in an egg?" finds one large egg, "is 1 tbsp
// butter a lot?" 14.2 g of butter. Only names known for sure count (a
// dish, an alias, a USDA description, once normalised), each weighed with
// the amount written just before it, or its usual portion; the weights
// are Parse's, so a question and a caption agree. Text that Validate
// refuses finds nothing.
func (p *Parser) Find(text string) []Item {
	if Validate(text) != nil {
		return nil
	}
	toks := lex(text)
	var items []Item
	consumed := 0 // tokens before this index belong to an item already
	for i := 0; i < len(toks) && len(items) < MaxItems; i++ {
		if toks[i].kind != tokWord || conversationWords[toks[i].text] {
			continue
		}
		end := -1
		var r match
		for j := min(len(toks), i+maxNameWords); j > i; j-- {
			words, ok := wordsOf(toks[i:j])
			if !ok || joiningWords[words[len(words)-1]] || conversationWords[words[len(words)-1]] {
				continue
			}
			if m, found := p.m.exact(normalizeName(words)); found {
				end, r = j, m
				break
			}
		}
		if end < 0 {
			continue
		}
		start := i
		for start > consumed && quantityWord(toks[start-1]) {
			start--
		}
		q, rest, err := leadingQuantity(toks[start:end])
		if err != nil {
			q, rest = Quantity{}, toks[i:end]
		}
		words, _ := wordsOf(rest)
		if len(words) == 0 {
			words, _ = wordsOf(toks[i:end])
		}
		textOf := strings.TrimSpace(text[toks[start].start:toks[end-1].end])
		plural := q.Amount == 0 && q.Unit.Name == "" && q.Size == "" && isPlural(words[len(words)-1])
		it, err := p.item(textOf, strings.Join(words, " "), words, q, plural, false)
		if err == nil && it.Known && it.How == r.how {
			items = append(items, it)
		}
		consumed, i = end, end-1
	}
	return items
}

// wordsOf returns the words of tokens made of words only.
func wordsOf(toks []token) ([]string, bool) {
	words := make([]string, 0, len(toks))
	for _, t := range toks {
		if t.kind != tokWord {
			return nil, false
		}
		words = append(words, t.text)
	}
	return words, true
}

// normalizeName is the key of a name's words.
func normalizeName(words []string) string {
	return strings.Join(normalizeWords(words), " ")
}

// quantityWord reports whether a token can be part of an amount before a
// food: a number, a number word, a unit, a size, "of".
func quantityWord(t token) bool {
	switch t.kind {
	case tokNumber:
		return true
	case tokWord:
		_, unit := units[t.text]
		_, size := sizes[t.text]
		return unit || size || numberWords[t.text] > 0 || t.text == "of" || t.text == "x" || t.text == "fl" || t.text == "fluid"
	}
	return false
}

// isPlural reports whether a word is a plural the normalisation makes
// singular: "eggs", not "hummus".
func isPlural(w string) bool {
	return strings.HasSuffix(w, "s") && normalizeName([]string{w}) != w
}

// Named matches a food's name given apart from its weight, as a model
// lists a meal ("grilled chicken breast", 150 g), and weighs it so: a
// dish's recipe is scaled to the weight. The item is unknown when the name
// matches nothing; the error is an *InputError for a name Validate refuses
// or a weight that is not positive, not finite or over MaxGrams.
func (p *Parser) Named(name string, grams float64) (Item, error) {
	if err := Validate(name); err != nil {
		return Item{}, err
	}
	if err := checkNumber(formatGrams(grams), grams); err != nil {
		return Item{}, err
	}
	var words []string
	for _, t := range lex(name) {
		if t.kind == tokWord || t.kind == tokNumber {
			words = append(words, t.text)
		}
	}
	q := Quantity{Amount: grams, Unit: units["g"]}
	text := fmt.Sprintf("%s g %s", formatGrams(grams), strings.TrimSpace(name))
	return p.item(text, strings.Join(trimConversation(words), " "), words, q, false, false)
}
