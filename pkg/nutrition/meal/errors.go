package meal

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// ErrBadInput matches every *InputError.
var ErrBadInput = errors.New("meal: bad input")

// InputError is a caption that cannot be read as it is: an amount that is
// not positive, not a number, or more than a person eats at a meal, or a
// control character. It names what was wrong.
type InputError struct {
	// Text is the part of the caption at fault, e.g. "-5 g rice".
	Text string
	// Reason says why, e.g. "the amount must be more than 0".
	Reason string
}

func (e *InputError) Error() string {
	if e.Text == "" {
		return "meal: " + e.Reason
	}
	return fmt.Sprintf("meal: %q: %s", e.Text, e.Reason)
}

// Is makes an *InputError match ErrBadInput.
func (e *InputError) Is(target error) bool { return target == ErrBadInput }

// Limits of what one item of a meal may weigh or count: more is a typo or
// a test, not a meal.
const (
	MaxGrams  = 5000 // 5 kg, or 5 l of a drink
	MaxPieces = 100
)

// Validate checks that text is valid UTF-8 without control characters
// (tabs and line breaks aside), which no caption needs and which a
// database refuses (NUL).
func Validate(text string) error {
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return &InputError{Reason: fmt.Sprintf("the text is not valid UTF-8 (byte %d)", i)}
		case r == utf8.RuneError:
			return &InputError{Reason: fmt.Sprintf("the text holds U+FFFD, the mark of bytes that were not valid UTF-8 (byte %d)", i)}
		case r != '\n' && r != '\r' && r != '\t' && (unicode.IsControl(r) || r == '\u2028' || r == '\u2029'):
			return &InputError{Reason: fmt.Sprintf("the text holds the control character %U at byte %d", r, i)}
		}
		i += size
	}
	return nil
}
