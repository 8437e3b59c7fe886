package text

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCutKeepsRunesWhole(t *testing.T) {
	tests := []struct {
		s     string
		limit int
		want  string
	}{
		{"rice", 64, "rice"},
		{"chicken breast", 7, "chicken…"},
		{"crème brûlée", 3, "cr…"}, // "è" is two bytes: not split
		{strings.Repeat("a", 70), 64, strings.Repeat("a", 64) + "…"},
	}
	for _, tt := range tests {
		got := Cut(tt.s, tt.limit)
		if got != tt.want || !utf8.ValidString(got) {
			t.Errorf("Cut(%q, %d) = %q, want %q", tt.s, tt.limit, got, tt.want)
		}
	}
	if got := Short(strings.Repeat("é", 40)); len(got) > 64+len("…") {
		t.Errorf("Short made %d bytes", len(got))
	}
}
