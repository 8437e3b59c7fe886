package meal

import (
	"fmt"
	"strings"
)

// maxNameWords is the most words a food's name may have in Find.
const maxNameWords = 6

// Find reads the foods a sentence mentions, for a question rather than a
// caption: "How much protein is in an egg?" finds one large egg, "is 1 tbsp
// butter a lot?" 14.2 g of butter. It finds the names known for sure (a
// dish, an alias, a USDA description, once normalised), takes with each
// the words around it that a caption would hold (the amount before it or
// after it, words such as "grilled", and other foods joined by "and",
// "with", "on" or a comma), and reads each such part with Parse: the part
// "a turkey sandwich on rye" of a question is read as the caption "a
// turkey sandwich on rye" is, and a bad amount there ("0 g rice", "1e308
// g rice") is Parse's *InputError. The items are Parse's known items
// whose match is not uncertain. Text that Validate refuses is its error.
func (p *Parser) Find(text string) ([]Item, error) {
	if err := Validate(text); err != nil {
		return nil, err
	}
	toks := lex(text)
	var items []Item
	for _, span := range p.foodSpans(toks) {
		part := text[toks[span[0]].start:toks[span[1]-1].end]
		got, err := p.Parse(part)
		if err != nil {
			return nil, err
		}
		for _, it := range got {
			if it.Known && !it.Uncertain() && len(items) < MaxItems {
				items = append(items, it)
			}
		}
	}
	return items, nil
}

// foodSpans returns the parts of a sentence that name foods, as token
// ranges [start, end): each name known for sure with the amount and the
// words that qualify it, names joined by "and", "with", "on" or a comma
// in one part.
func (p *Parser) foodSpans(toks []token) [][2]int {
	var spans [][2]int
	consumed := 0 // tokens before this index belong to a span already
	for i := 0; i < len(toks); i++ {
		end := p.knownNameAt(toks, i)
		if end < 0 {
			continue
		}
		start := i
		for start > consumed && leadsFood(toks[start-1]) {
			start--
		}
		for start < i && (isWord(toks[start], "of") || isWord(toks[start], "x")) {
			start++ // "of a banana" is "a banana"
		}
		end = trailingAmountEnd(toks, end)
		if n := len(spans); n > 0 && spans[n-1][1] == consumed && joinable(toks[consumed:start]) {
			spans[n-1][1] = end // "2 eggs and 200 ml of milk": one part
		} else {
			spans = append(spans, [2]int{start, end})
		}
		consumed, i = end, end-1
	}
	return spans
}

// knownNameAt returns the end of the longest name known for sure that
// starts at toks[i], or -1.
func (p *Parser) knownNameAt(toks []token, i int) int {
	if toks[i].kind != tokWord || conversationWords[toks[i].text] {
		return -1
	}
	for j := min(len(toks), i+maxNameWords); j > i; j-- {
		words, ok := wordsOf(toks[i:j])
		if !ok || joiningWords[words[len(words)-1]] || conversationWords[words[len(words)-1]] {
			continue
		}
		if _, found := p.m.exact(normalizeName(words)); found {
			return j
		}
	}
	return -1
}

// leadsFood reports whether a token before a food's name belongs to the
// item, as a caption would hold it: an amount (a number, also one that is
// no amount such as "-5" or "1e308", whose error the item then gives), a
// unit, a size, or a word that says how the food is made ("grilled",
// "homemade").
func leadsFood(t token) bool {
	switch {
	case t.kind == tokBad:
		return true
	case quantityWord(t):
		return true
	case t.kind == tokWord && notNumbers[t.text]:
		return true
	case t.kind == tokWord && !conversationWords[t.text]:
		return fillerWords[t.text] || cookingWords[t.text] || alteringWords[t.text] || packSizes[t.text] != "" || t.text == "size"
	}
	return false
}

// trailingAmountEnd extends a name ending at end over an amount written
// after it ("rice 200 g", "eggs x2", "rice -5 g").
func trailingAmountEnd(toks []token, end int) int {
	i := end
	switch {
	case i < len(toks) && (toks[i].kind == tokNumber || toks[i].kind == tokBad || toks[i].kind == tokWord && notNumbers[toks[i].text]):
		if toks[i].kind == tokNumber && i+1 < len(toks) && isWord(toks[i+1], "x") {
			return i + 2 // "eggs 2x"
		}
		if _, n := unitAt(toks, i+1); n > 0 {
			return i + 1 + n // "rice 200 g"
		}
		if toks[i].kind != tokNumber {
			return i + 1 // "rice -5": no amount, and said so
		}
	case i+1 < len(toks) && isWord(toks[i], "x") && toks[i+1].kind == tokNumber:
		return i + 2 // "eggs x2"
	}
	return end
}

// joinable reports whether the tokens between two names join them into
// one part: conjunctions, commas and the words that lead a food.
func joinable(between []token) bool {
	for _, t := range between {
		switch {
		case t.kind == tokBreak && (t.text == "," || t.text == ";"):
		case t.kind == tokWord && conjunctions[t.text]:
		case leadsFood(t):
		default:
			return false
		}
	}
	return true
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
