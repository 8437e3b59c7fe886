package meal

import (
	"fmt"
	"math"
	"strings"
)

// approxWords come before an amount without changing it.
var approxWords = map[string]bool{
	"about": true, "around": true, "approx": true, "approximately": true, "roughly": true, "like": true,
	"maybe": true, "some": true, "nearly": true, "almost": true, "over": true, "under": true, "just": true,
}

// notNumbers are words that a float parser would read as a number but
// that are no amount.
var notNumbers = map[string]bool{"nan": true, "inf": true, "infinity": true, "infinite": true}

// unitAt reads a unit at toks[i:], one or two words ("fl oz"), and
// returns it with the number of tokens it took.
func unitAt(toks []token, i int) (Unit, int) {
	if i >= len(toks) || toks[i].kind != tokWord {
		return Unit{}, 0
	}
	if i+1 < len(toks) && toks[i+1].kind == tokWord {
		if u, ok := units[toks[i].text+" "+toks[i+1].text]; ok {
			return u, 2
		}
	}
	if u, ok := units[toks[i].text]; ok {
		return u, 1
	}
	return Unit{}, 0
}

// sizeAt reads a size at toks[i:] ("large", "extra large").
func sizeAt(toks []token, i int) (string, int) {
	if i >= len(toks) || toks[i].kind != tokWord {
		return "", 0
	}
	if i+1 < len(toks) && toks[i+1].kind == tokWord {
		if s, ok := sizes[toks[i].text+" "+toks[i+1].text]; ok {
			return s, 2
		}
	}
	if s, ok := sizes[toks[i].text]; ok {
		return s, 1
	}
	return "", 0
}

// packSizes are the sizes of bags and packs, said only before a unit ("a
// family size bag", "a party bag", "a snack bag"): elsewhere the words are
// part of a name ("party mix").
var packSizes = map[string]string{"family": "extra large", "party": "extra large", "sharing": "extra large", "king": "extra large", "snack": "small"}

// packSizeAt reads a pack size at toks[i:] ("family size", "party"), when
// a unit follows it.
func packSizeAt(toks []token, i int) (string, int) {
	if i >= len(toks) || toks[i].kind != tokWord || packSizes[toks[i].text] == "" {
		return "", 0
	}
	n := 1
	if i+1 < len(toks) && (isWord(toks[i+1], "size") || isWord(toks[i+1], "sized")) {
		n = 2
	}
	if u, _ := unitAt(toks, i+n); u.Kind != Count {
		return "", 0
	}
	return packSizes[toks[i].text], n
}

// leadingQuantity reads an amount at the start of an item: "2 large",
// "1/2 cup of", "half an", "a couple of", "200 g", "a slice of". It
// returns the quantity (zero when there is none) and the tokens after it.
func leadingQuantity(toks []token) (Quantity, []token, error) {
	var q Quantity
	i := 0
	for i < len(toks) && toks[i].kind == tokWord && approxWords[toks[i].text] {
		i++
	}
	start := i
	numbered := false
	if i < len(toks) {
		t := toks[i]
		switch {
		case t.kind == tokBad:
			return q, nil, badAmount(t.text)
		case t.kind == tokNumber:
			q.Amount, numbered = t.value, true
			i++
		case t.kind == tokWord && notNumbers[t.text]:
			if u, _ := unitAt(toks, i+1); u.Name != "" {
				return q, nil, &InputError{Text: t.text + " " + toks[i+1].text, Reason: fmt.Sprintf("%q is not a number", t.text)}
			}
		case t.kind == tokWord && t.text == "x" && i+1 < len(toks) && toks[i+1].kind == tokNumber:
			q.Amount, numbered = toks[i+1].value, true
			i += 2
		case t.kind == tokWord && numberWords[t.text] > 0:
			q.Amount, i = wordAmount(toks, i)
			numbered = true
		}
	}
	if numbered {
		if err := checkNumber(toks[start].text, q.Amount); err != nil {
			return q, nil, err
		}
		if i < len(toks) && isWord(toks[i], "x") {
			i++ // "2x eggs"
		}
	}
	if s, n := sizeAt(toks, i); n > 0 && i+n < len(toks) {
		q.Size, i = s, i+n
	} else if s, n := packSizeAt(toks, i); n > 0 {
		q.Size, i = s, i+n
	}
	if u, n := unitAt(toks, i); n > 0 && i+n <= len(toks) {
		q.Unit, i = u, i+n
		if q.Amount == 0 {
			q.Amount = 1 // "a cup of tea" without "a", "slice of pizza"
		}
		if s, n := sizeAt(toks, i); n > 0 && i+n < len(toks) && q.Size == "" {
			q.Size, i = s, i+n
		}
	}
	if q.Amount == 0 && q.Size == "" && q.Unit.Name == "" {
		return Quantity{}, toks, nil
	}
	for i < len(toks) && toks[i].kind == tokWord && (toks[i].text == "of" || toks[i].text == "a" || toks[i].text == "an") {
		i++
	}
	return q, toks[i:], nil
}

// wordAmount reads an amount in words at toks[i]: "a", "two", "half a",
// "a couple of", "one and a half", "a dozen".
func wordAmount(toks []token, i int) (float64, int) {
	word := func(j int, w string) bool { return j < len(toks) && isWord(toks[j], w) }
	v := numberWords[toks[i].text]
	i++
	switch toks[i-1].text {
	case "a", "an":
		for _, w := range []string{"half", "quarter", "third", "couple", "few", "dozen", "pair", "double", "triple"} {
			if word(i, w) {
				v = numberWords[w]
				i++
				break
			}
		}
	case "half":
		if word(i, "a") || word(i, "an") {
			i++
			if word(i, "dozen") {
				v, i = 6, i+1
			}
		}
	}
	if word(i, "and") && word(i+1, "a") && word(i+2, "half") {
		v += 0.5
		i += 3
	}
	if v >= 1 && word(i, "dozen") {
		v *= 12
		i++
	}
	if word(i, "of") && (toks[i-1].text == "couple" || toks[i-1].text == "few" || toks[i-1].text == "pair" || toks[i-1].text == "dozen" || toks[i-1].text == "several") {
		i++
	}
	return v, i
}

// trailingQuantity reads an amount after a food's name: "salmon 200g",
// "rice 1 cup", "eggs x2", "eggs 2x", "toast 2". It returns the quantity
// and the tokens before it.
func trailingQuantity(toks []token) (Quantity, []token, error) {
	var q Quantity
	n := len(toks)
	if n < 2 {
		return q, toks, nil
	}
	// "… 200 g", "… 1 cup", "… 2 fl oz"
	for width := 2; width >= 1; width-- {
		if n-width-1 < 1 {
			continue
		}
		u, used := unitAt(toks, n-width)
		if used != width {
			continue
		}
		num := toks[n-width-1]
		if num.kind == tokBad {
			return q, nil, badAmount(num.text)
		}
		if num.kind == tokWord && notNumbers[num.text] {
			return q, nil, &InputError{Text: num.text + " " + toks[n-width].text, Reason: fmt.Sprintf("%q is not a number", num.text)}
		}
		if num.kind == tokNumber {
			if err := checkNumber(num.text, num.value); err != nil {
				return q, nil, err
			}
			q.Amount, q.Unit = num.value, u
			return q, toks[:n-width-1], nil
		}
	}
	last := toks[n-1]
	switch {
	case last.kind == tokBad:
		return q, nil, badAmount(last.text)
	case last.kind == tokNumber && n >= 3 && isWord(toks[n-2], "x"):
		q.Amount = last.value // "eggs x 2"
		return q, toks[:n-2], checkNumber(last.text, last.value)
	case last.kind == tokNumber:
		q.Amount = last.value // "eggs 2"
		return q, toks[:n-1], checkNumber(last.text, last.value)
	case isWord(last, "x") && toks[n-2].kind == tokNumber && n >= 3:
		q.Amount = toks[n-2].value // "eggs 2x"
		return q, toks[:n-2], checkNumber(toks[n-2].text, toks[n-2].value)
	}
	return q, toks, nil
}

// checkNumber refuses an amount that is not positive or not finite.
func checkNumber(text string, v float64) error {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return &InputError{Text: text, Reason: "the amount is not a number"}
	case v <= 0:
		return &InputError{Text: text, Reason: "the amount must be more than 0"}
	}
	return nil
}

// badAmount is the error for something written as a number that is no
// amount: "-5", "1e308".
func badAmount(text string) error {
	if strings.HasPrefix(text, "-") || strings.HasPrefix(text, "\u2212") {
		return &InputError{Text: text, Reason: "the amount must be more than 0"}
	}
	return &InputError{Text: text, Reason: "the amount is not a plain number: write it with the figures 0 to 9, a point and a fraction bar only, as 200, 1.5 or 1/2"}
}
