package meal

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokenKind says what a token of a caption is.
type tokenKind uint8

const (
	tokWord   tokenKind = iota // a word, in lower case
	tokNumber                  // an amount written in figures: 2, 1.5, 1/2, ½, 1½
	tokBad                     // written like a number but no amount: -5, 1e308, ٣
	tokBreak                   // a separator between foods: , ; . newline
	tokOther                   // symbols that are not words (emoji): kept for the caption's text
)

// token is one word, number or separator of a caption.
type token struct {
	kind  tokenKind
	text  string  // the word in lower case, or the text as written
	value float64 // the amount, for tokNumber
	frac  bool    // a tokNumber written as a fraction (1/2, ½), for mixed numbers
	start int     // byte offsets of the token in the caption
	end   int
}

// vulgarFractions are the Unicode fractions a caption may use.
var vulgarFractions = map[rune]float64{
	'½': 0.5, '⅓': 1.0 / 3, '⅔': 2.0 / 3, '¼': 0.25, '¾': 0.75, '⅕': 0.2, '⅖': 0.4,
	'⅗': 0.6, '⅘': 0.8, '⅙': 1.0 / 6, '⅚': 5.0 / 6, '⅛': 0.125, '⅜': 0.375, '⅝': 0.625, '⅞': 0.875,
}

// abbreviations may end with a full stop that does not end a sentence.
var abbreviations = map[string]bool{
	"fl": true, "oz": true, "tbsp": true, "tsp": true, "approx": true, "lb": true, "lbs": true,
	"pc": true, "pcs": true, "g": true, "gr": true, "kg": true, "ml": true, "tbs": true, "w": true,
}

// lex splits a caption into tokens. Letters are lower-cased; "&", "+" and
// "/" between words become the word "and", "w/" the word "with", a hyphen
// between figures ("2-3") the word "to".
func lex(s string) []token {
	var toks []token
	word := func(text string, start, end int) {
		toks = append(toks, token{kind: tokWord, text: text, start: start, end: end})
	}
	prevIsNumber := func() bool { return len(toks) > 0 && toks[len(toks)-1].kind == tokNumber }
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\n' || r == ',' || r == ';' || r == '!' || r == '?' || r == '|' || r == '•' || r == '·' || r == ':':
			toks = append(toks, token{kind: tokBreak, text: string(r), start: i, end: i + size})
			i += size
		case r == '.':
			if n := len(toks); n > 0 && toks[n-1].kind == tokWord && toks[n-1].end == i && abbreviations[toks[n-1].text] {
				i += size // "fl. oz", "approx."
				continue
			}
			toks = append(toks, token{kind: tokBreak, text: ".", start: i, end: i + size})
			i += size
		case r == '&' || r == '+':
			word("and", i, i+size)
			i += size
		case r == '/':
			if n := len(toks); n > 0 && toks[n-1].kind == tokWord && toks[n-1].text == "w" && toks[n-1].end == i {
				toks[n-1].text, toks[n-1].end = "with", i+size
			} else {
				word("and", i, i+size)
			}
			i += size
		case r == '-' || r == '−':
			next := i + size
			if next < len(s) && isDigit(s[next]) {
				if prevIsNumber() && toks[len(toks)-1].end == i {
					word("to", i, next) // 2-3
					i = next
					continue
				}
				if len(toks) == 0 || toks[len(toks)-1].end < i || toks[len(toks)-1].kind != tokWord {
					t := lexNumber(s, next)
					toks = append(toks, token{kind: tokBad, text: s[i:t.end], start: i, end: t.end})
					i = t.end
					continue
				}
			}
			i += size // a hyphen inside a word: "stir-fry", "t-bone"
		case isDigit(byte(r)) && r < utf8.RuneSelf:
			t := lexNumber(s, i)
			toks = append(toks, t)
			i = t.end
			if t.kind == tokNumber && i < len(s) && s[i] == '%' {
				toks[len(toks)-1] = token{kind: tokWord, text: s[t.start : i+1], start: t.start, end: i + 1}
				i++
			}
		case vulgarFractions[r] != 0:
			v := vulgarFractions[r]
			if n := len(toks); n > 0 && toks[n-1].kind == tokNumber && toks[n-1].end == i && !toks[n-1].frac && toks[n-1].value == float64(int(toks[n-1].value)) {
				toks[n-1].value += v // 1½
				toks[n-1].end, toks[n-1].frac = i+size, true
			} else {
				toks = append(toks, token{kind: tokNumber, text: string(r), value: v, frac: true, start: i, end: i + size})
			}
			i += size
		case unicode.IsLetter(r) || r == '\'' || r == '’':
			start := i
			for i < len(s) {
				r, size := utf8.DecodeRuneInString(s[i:])
				if !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == '\'' || r == '’') {
					break
				}
				i += size
			}
			text := strings.ToLower(strings.Trim(s[start:i], "'’"))
			if n, err := strconv.Atoi(strings.TrimPrefix(text, "x")); err == nil && len(text) > 1 && text[0] == 'x' {
				word("x", start, start+1) // "x3"
				toks = append(toks, token{kind: tokNumber, text: text[1:], value: float64(n), start: start + 1, end: i})
			} else if text != "" {
				word(text, start, i)
			}
		case unicode.IsSpace(r) || unicode.IsPunct(r):
			i += size
		case unicode.IsDigit(r):
			// Figures of another script ("٣", "३"): an amount the parser
			// cannot read, refused as one, never skipped.
			start := i
			for i < len(s) {
				r, size := utf8.DecodeRuneInString(s[i:])
				if !unicode.IsDigit(r) {
					break
				}
				i += size
			}
			toks = append(toks, token{kind: tokBad, text: s[start:i], start: start, end: i})
		default:
			// A symbol (an emoji): kept as text, this rune at least.
			start := i
			i += size
			for i < len(s) {
				r, size := utf8.DecodeRuneInString(s[i:])
				if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || unicode.IsPunct(r) {
					break
				}
				i += size
			}
			toks = append(toks, token{kind: tokOther, text: s[start:i], start: start, end: i})
		}
	}
	return joinNumbers(toks)
}

// lexNumber reads the figures at s[i:]: an integer, a decimal with a point
// or a comma ("1.5", "1,5"; "1,500" is fifteen hundred), a fraction
// ("3/4"), or scientific notation ("1e308"), which is no amount. A number
// glued to a word ("200g", "2x") ends where the word begins.
func lexNumber(s string, i int) token {
	start := i
	for i < len(s) && (isDigit(s[i]) || s[i] == ',' && i > start && digitsAt(s, i+1) == 3) {
		i++ // "1,500": a thousands separator
	}
	if i+1 < len(s) && (s[i] == '.' || s[i] == ',') && isDigit(s[i+1]) {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			return token{kind: tokBad, text: s[start:j], start: start, end: j}
		}
	}
	text := s[start:i]
	plain := strings.ReplaceAll(text, ",", ".") // "1,5": a decimal comma
	if strings.Contains(text, ",") && digitsAfterComma(text) == 3 {
		plain = strings.ReplaceAll(text, ",", "") // "1,500"
	}
	v, err := strconv.ParseFloat(plain, 64)
	if err != nil {
		return token{kind: tokBad, text: text, start: start, end: i}
	}
	if i+1 < len(s) && s[i] == '/' && isDigit(s[i+1]) {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		d, _ := strconv.ParseFloat(s[i+1:j], 64)
		if d == 0 {
			return token{kind: tokBad, text: s[start:j], start: start, end: j}
		}
		return token{kind: tokNumber, text: s[start:j], value: v / d, frac: true, start: start, end: j}
	}
	return token{kind: tokNumber, text: text, value: v, start: start, end: i}
}

// digitsAt counts the figures starting at s[i].
func digitsAt(s string, i int) int {
	n := 0
	for i+n < len(s) && isDigit(s[i+n]) {
		n++
	}
	return n
}

// digitsAfterComma counts the figures after the last comma of text.
func digitsAfterComma(text string) int {
	return len(text) - strings.LastIndexByte(text, ',') - 1
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// joinNumbers merges what reads as one amount: a whole number and a
// fraction ("1 1/2"), "1 and a half", and ranges ("2-3", "2 to 3", "2 or
// 3"), which become their middle.
func joinNumbers(toks []token) []token {
	out := toks[:0:0]
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind == tokNumber {
			switch {
			case i+1 < len(toks) && toks[i+1].kind == tokNumber && toks[i+1].frac && toks[i+1].value < 1 && !t.frac && t.value == float64(int(t.value)):
				t.value += toks[i+1].value
				t.end, t.frac = toks[i+1].end, true
				i++
			case i+3 < len(toks) && isWord(toks[i+1], "and") && isWord(toks[i+2], "a") && isWord(toks[i+3], "half"):
				t.value += 0.5
				t.end = toks[i+3].end
				i += 3
			case i+2 < len(toks) && (isWord(toks[i+1], "to") || isWord(toks[i+1], "or")) && toks[i+2].kind == tokNumber && toks[i+2].value > t.value:
				t.value = (t.value + toks[i+2].value) / 2
				t.end = toks[i+2].end
				i += 2
			}
		}
		out = append(out, t)
	}
	return out
}

func isWord(t token, w string) bool { return t.kind == tokWord && t.text == w }
