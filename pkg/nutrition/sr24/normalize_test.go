package sr24

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		// case, punctuation and spaces
		{"Chicken Breasts", "chicken breast"},
		{"  chicken   breast. ", "chicken breast"},
		{"CHICKEN-BREAST", "chicken breast"},
		{"eggs,", "egg"},
		{"Bananas, raw", "banana raw"},
		{"chicken\tbreast\n", "chicken breast"},
		{"mac & cheese", "mac and cheese"},
		{"M&Ms", "m and ms"},
		{"Kellogg's Corn Flakes", "kellogg corn flake"},
		{"Kellogg’s", "kellogg"},
		{"2% milk", "2 milk"},
		{"7-Up", "7 up"},
		// plurals
		{"Tomatoes", "tomato"},
		{"potatoes", "potato"},
		{"berries", "berry"},
		{"strawberries", "strawberry"},
		{"peaches", "peach"},
		{"radishes", "radish"},
		{"boxes", "box"},
		{"glasses", "glass"},
		{"apples", "apple"},
		{"olives", "olive"},
		{"kiwis", "kiwi"},
		{"tortillas", "tortilla"},
		{"tacos", "taco"},
		{"french fries", "french fry"},
		{"leaves", "leaf"},
		{"loaves", "loaf"},
		{"cookies", "cookie"},
		{"brownies", "brownie"},
		{"pies", "pie"},
		{"quiches", "quiche"},
		{"sloes", "sloe"},
		// words that only look plural
		{"hummus", "hummus"},
		{"asparagus", "asparagus"},
		{"couscous", "couscous"},
		{"grass", "grass"},
		{"swiss cheese", "swiss cheese"},
		{"molasses", "molasses"},
		{"brussels sprouts", "brussels sprout"},
		{"citrus", "citrus"},
		{"octopus", "octopus"},
		{"haggis", "haggis"},
		{"foie gras", "foie gras"},
		{"series", "series"},
		// short words and words with digits are kept
		{"gas", "gas"},
		{"bus", "bus"},
		{"oats", "oat"},
		{"ms", "ms"},
		{"b12s", "b12s"},
		// unicode
		{"Jalapeño", "jalapeno"},
		{"Crème Brûlée", "creme brulee"},
		{"ﬁg", "fig"},
		{"ＥＧＧＳ", "egg"},
		{"Äpfel", "apfel"},
		{"寿司", "寿司"},
		{"Ζάχαρη", "ζαχαρη"},
		{"½ cup", "1 2 cup"},
		// nothing left
		{"", ""},
		{"   ", ""},
		{"!?.,;", ""},
		{"\x00\x01\x7f", ""},
		{"\xff\xfe", ""},
		{"egg\x00s", "egg s"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// checkNormalized fails the test unless key is a well-formed normalised
// name of s: valid UTF-8, single spaces between words, none at the ends,
// and a fixed point of Normalize.
func checkNormalized(t *testing.T, s, key string) {
	t.Helper()
	if !utf8.ValidString(key) {
		t.Errorf("Normalize(%q) = %q: not valid UTF-8", s, key)
	}
	if strings.HasPrefix(key, " ") || strings.HasSuffix(key, " ") || strings.Contains(key, "  ") {
		t.Errorf("Normalize(%q) = %q: stray spaces", s, key)
	}
	if again := Normalize(key); again != key {
		t.Errorf("Normalize(%q) = %q, but Normalize(%q) = %q: not idempotent", s, key, key, again)
	}
}

func TestNormalizeIsIdempotentOnTheData(t *testing.T) {
	d := loadData(t)
	for _, f := range d.Foods() {
		checkNormalized(t, f.Description, Normalize(f.Description))
	}
	for _, a := range d.Aliases() {
		checkNormalized(t, a.Name, Normalize(a.Name))
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Chicken Breasts", "eggs,", "Jalapeño", "ﬁg", "½", "\xff", "İstanbul", "ǅemal", "ẞ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkNormalized(t, s, Normalize(s))
	})
}
