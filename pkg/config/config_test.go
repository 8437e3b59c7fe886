package config

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestErrorNamesThePackageTheFieldAndTheValue(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{"dbreaker", "FailureThreshold", -2, "want a positive count"}, "dbreaker: invalid FailureThreshold = -2: want a positive count"},
		{&Error{"retry", "MaxDelay", -time.Second, "must not be negative"}, "retry: invalid MaxDelay = -1s: must not be negative"},
		{&Error{"nutrition", "name", "rice\x00", "control character"}, `nutrition: invalid name = "rice\x00": control character`},
		{&Error{"chain", "Breaker", nil, "required"}, "chain: invalid Breaker = <nil>: required"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
		var ce *Error
		if !errors.As(fmt.Errorf("wrapped: %w", tt.err), &ce) || ce != tt.err {
			t.Errorf("errors.As does not find %v", tt.err)
		}
	}
}
