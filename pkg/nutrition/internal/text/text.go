// Package text shortens text for error messages, for the nutrition
// packages.
package text

import "unicode/utf8"

// Cut shortens s to at most limit bytes, on a rune boundary, marking the
// cut with "…".
func Cut(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	end := limit
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + "…"
}

// Short shortens a name, a query or a URL for an error message: at most 64
// bytes.
func Short(s string) string { return Cut(s, 64) }
