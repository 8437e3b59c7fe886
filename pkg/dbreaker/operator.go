package dbreaker

import (
	"context"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxOperatorLen bounds an operator's name, in bytes.
const MaxOperatorLen = 64

type operatorKey struct{}

// ContextWithOperator returns a context naming who acts: an override
// (ForceOpen, ForceClosed, Disable, Reset) made with it is recorded in the
// breaker's log with that name. The name is 1 to MaxOperatorLen bytes of
// printable UTF-8 ("alice", "Ada Lovelace", "deploy-bot"); anything else is
// an error that says what is wrong.
func ContextWithOperator(ctx context.Context, name string) (context.Context, error) {
	if err := ValidateOperator(name); err != nil {
		return ctx, err
	}
	return context.WithValue(ctx, operatorKey{}, name), nil
}

// OperatorFrom returns the operator named in ctx, or "" when none is.
func OperatorFrom(ctx context.Context) string {
	name, _ := ctx.Value(operatorKey{}).(string)
	return name
}

// ValidateOperator checks an operator's name (see ContextWithOperator).
func ValidateOperator(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("dbreaker: invalid operator name: empty")
	case len(name) > MaxOperatorLen:
		return fmt.Errorf("dbreaker: invalid operator name %.20q…: %d bytes, want at most %d", name, len(name), MaxOperatorLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("dbreaker: invalid operator name %q: not UTF-8", name)
	}
	for i, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("dbreaker: invalid operator name %q: character %q at byte %d is not printable", name, r, i)
		}
	}
	return nil
}
