package sr24

import "testing"

func TestAsEaten(t *testing.T) {
	tests := []struct {
		name, description string
		far               bool // the description is not the form the name means
	}{
		{"rice", "Rice, white, long-grain, regular, raw, enriched", true},
		{"rice", "Rice, white, long-grain, regular, cooked", false},
		{"raw rice", "Rice, white, long-grain, regular, raw, enriched", false},
		{"apple", "Apples, raw, with skin", false},
		{"salmon", "Fish, salmon, Atlantic, farmed, cooked, dry heat", false},
		{"salmon", "Fish, salmon, Atlantic, farmed, raw", true},
		{"pasta", "Spaghetti, dry, enriched", true},
		{"dry pasta", "Spaghetti, dry, enriched", false},
		{"almonds", "Nuts, almonds, dry roasted, with salt added", false},
		{"tomato soup", "Soup, tomato, canned, condensed", true},
		{"carrots", "Babyfood, vegetables, carrots, strained", true},
		{"oatmeal", "Cereals, oats, instant, fortified, plain, dry", true},
	}
	for _, tt := range tests {
		if got := AsEaten(tt.name, tt.description); (got >= 0.2) != tt.far {
			t.Errorf("AsEaten(%q, %q) = %.2f, want far=%v", tt.name, tt.description, got, tt.far)
		}
	}
}
