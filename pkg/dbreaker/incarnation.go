package dbreaker

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync/atomic"
)

// incarnations makes the incarnation ids a store hands to the scripts that
// may create a breaker's state: a random prefix per store and a sequence
// number, so no two creations by any store share one.
type incarnations struct {
	prefix string
	seq    atomic.Uint64
}

func newIncarnations() (*incarnations, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("dbreaker: incarnation seed: %w", err)
	}
	return &incarnations{prefix: hex.EncodeToString(b[:]) + ":"}, nil
}

func (g *incarnations) next() string {
	return g.prefix + strconv.FormatUint(g.seq.Add(1), 36)
}

// validIncarnation tells a well-formed incarnation (as lib.lua's
// incarnation() does): 1 to 40 letters, digits and ':'; empty only where
// allowed (a state never written).
func validIncarnation(s string, emptyOK bool) bool {
	if s == "" {
		return emptyOK
	}
	if len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == ':') {
			return false
		}
	}
	return true
}
