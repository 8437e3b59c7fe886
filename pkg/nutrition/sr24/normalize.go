package sr24

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize reduces a food name to the form used to compare names, so that
// "Chicken Breasts", "chicken  breast." and "CHICKEN-BREAST" all become
// "chicken breast". It is a pure function of its input; the same function
// normalises the aliases and USDA descriptions when a Dataset is loaded,
// and must be used on anything compared with them (such as the keys of a
// database cache).
//
// The steps, in order:
//
//  1. Unicode compatibility decomposition (NFKD), dropping combining marks:
//     "Jalapeño" → "Jalapeno", "ﬁg" → "fig", full-width letters → ASCII.
//  2. Lower case.
//  3. Apostrophes (' ’ ʼ ‘) are removed: "Kellogg's" → "kelloggs".
//     "&" becomes the word "and": "mac & cheese" → "mac and cheese".
//  4. Every other rune that is not a letter or a digit (punctuation,
//     symbols, spaces, control characters, invalid UTF-8) separates words;
//     runs of separators collapse to one space, and the result is trimmed.
//  5. Each word of four or more ASCII letters is made singular by the
//     English rules of singular: "tomatoes" → "tomato", "berries" →
//     "berry", "peaches" → "peach", "eggs" → "egg", "leaves" → "leaf".
//     Words that only look plural are kept: those ending in "ss" ("grass"),
//     "us" ("hummus", "asparagus", "couscous") or "sis", and a short list
//     such as "molasses", "brussels" and "swiss". Words with digits or
//     non-ASCII letters are kept as they are.
//
// Normalize returns "" when the name has no letter or digit.
func Normalize(name string) string {
	if !isASCII(name) {
		// Invalid bytes become separators first: the decomposition leaves
		// text next to them as it is.
		name = norm.NFKD.String(strings.ToValidUTF8(name, " "))
	}
	var out strings.Builder
	out.Grow(len(name))
	word := make([]byte, 0, 32) // the word being read, lower case
	flush := func() {
		if len(word) == 0 {
			return
		}
		if out.Len() > 0 {
			out.WriteByte(' ')
		}
		out.WriteString(singular(string(word)))
		word = word[:0]
	}
	for _, r := range name {
		switch {
		case unicode.Is(unicode.Mn, r):
			// a combining mark left by the decomposition: drop it
		case r == '\'' || r == '’' || r == 'ʼ' || r == '‘':
			// "kellogg's" → "kelloggs"
		case r == '&':
			flush()
			word = append(word, "and"...)
			flush()
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			word = utf8.AppendRune(word, unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return out.String()
}

// irregular maps plurals that the rules in singular would get wrong.
var irregular = map[string]string{
	// -ves
	"leaves": "leaf", "loaves": "loaf", "halves": "half", "calves": "calf",
	"knives": "knife", "lives": "life", "wolves": "wolf", "shelves": "shelf",
	// -ies whose singular ends in -ie
	"cookies": "cookie", "brownies": "brownie", "smoothies": "smoothie",
	"veggies": "veggie", "hoagies": "hoagie", "calories": "calorie",
	"movies": "movie", "zombies": "zombie", "pierogies": "pierogi",
	"goalies": "goalie", "selfies": "selfie", "birdies": "birdie",
	// -oes whose singular ends in -oe
	"shoes": "shoe", "toes": "toe", "sloes": "sloe", "aloes": "aloe",
	"canoes": "canoe", "oboes": "oboe", "hoes": "hoe", "floes": "floe",
	"foes": "foe",
	// -ches whose singular ends in -che
	"quiches": "quiche", "brioches": "brioche", "ganaches": "ganache",
	"caches": "cache", "niches": "niche", "cliches": "cliche",
	"creches": "creche", "moustaches": "moustache", "panaches": "panache",
	// others
	"geese": "goose", "mice": "mouse", "teeth": "tooth", "feet": "foot",
	"children": "child", "women": "woman", "oxen": "ox",
	"buses": "bus", "gases": "gas",
}

// invariant lists words that end in s but are not plurals (or whose plural
// is the same), beyond the endings singular keeps by rule.
var invariant = map[string]bool{
	"molasses": true, "brussels": true, "series": true, "species": true,
	"pancreas": true, "christmas": true, "texas": true, "gras": true,
	"haggis": true, "pastis": true, "cannabis": true, "iris": true,
	"this": true, "does": true, "goes": true, "news": true, "lens": true,
	"always": true, "schnapps": true, "mars": true, "paris": true,
}

// singular returns the singular of one lower-case word (see Normalize).
func singular(w string) string {
	if len(w) < 4 || !isASCIILetters(w) {
		return w
	}
	if s, ok := irregular[w]; ok {
		return s
	}
	if invariant[w] {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "sis"):
		return w
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		return w[:len(w)-3] + "y" // berries → berry
	case strings.HasSuffix(w, "sses"), strings.HasSuffix(w, "ches"), strings.HasSuffix(w, "shes"),
		strings.HasSuffix(w, "xes"), strings.HasSuffix(w, "zzes"), strings.HasSuffix(w, "oes"):
		return w[:len(w)-2] // glasses → glass, peaches → peach, tomatoes → tomato
	case strings.HasSuffix(w, "s"):
		return w[:len(w)-1] // eggs → egg, apples → apple, kiwis → kiwi
	}
	return w
}

// isASCII reports whether s is made of ASCII bytes only, which NFKD leaves
// as they are.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isASCIILetters reports whether w is made of the letters a to z only.
func isASCIILetters(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}
