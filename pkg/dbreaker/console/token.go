package console

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// tokenCheck compares a request's bearer token with the configured one in
// constant time: both are hashed first, so neither their contents nor
// their lengths show in the time taken.
type tokenCheck struct{ sum [sha256.Size]byte }

func newTokenCheck(token string) *tokenCheck { return &tokenCheck{sum: sha256.Sum256([]byte(token))} }

// allows reports whether r carries "Authorization: Bearer <token>".
func (t *tokenCheck) allows(r *http.Request) bool {
	scheme, given, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(given)))
	return subtle.ConstantTimeCompare(sum[:], t.sum[:]) == 1
}
