package dbreaker

import (
	"fmt"
	"unicode/utf8"
)

// MaxNameLen is the longest breaker name (and store key prefix) accepted.
const MaxNameLen = 64

// ValidateName checks a breaker name: 1 to 64 characters, each a letter, a
// digit or one of "._-:". Braces are refused, so no name can change the
// Redis Cluster hash tag its keys share.
func ValidateName(name string) error {
	return validateIdent("breaker name", name)
}

func validateIdent(what, s string) error {
	if s == "" {
		return invalid(what, s, "empty")
	}
	if len(s) > MaxNameLen {
		return invalid(what, truncateText(s, 20)+"…", fmt.Sprintf("%d bytes, want at most %d", len(s), MaxNameLen))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-' || c == ':' {
			continue
		}
		r, _ := utf8.DecodeRuneInString(s[i:])
		return invalid(what, s, fmt.Sprintf("character %q at byte %d; allowed are letters, digits and \"._-:\" only", r, i))
	}
	return nil
}
