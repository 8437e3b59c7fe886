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

type testOptions struct {
	n     int
	given []string
}

type testOption func(*testOptions) error

func withN(n int) testOption {
	return func(o *testOptions) error {
		o.given = append(o.given, "WithN")
		if n < 0 {
			return &Error{Package: "x", Field: "WithN", Value: n, Reason: "want at least 0"}
		}
		o.n = n
		return nil
	}
}

func withOther() testOption {
	return func(o *testOptions) error { o.given = append(o.given, "WithOther"); return nil }
}

func TestApplyOptions(t *testing.T) {
	tests := []struct {
		name  string
		opts  []testOption
		field string // "" when valid
	}{
		{"none", nil, ""},
		{"accepted", []testOption{withN(3)}, ""},
		{"invalid value", []testOption{withN(-1)}, "WithN"},
		{"not taken", []testOption{withN(1), withOther()}, "WithOther"},
		{"nil", []testOption{nil}, "option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o testOptions
			err := ApplyOptions("x", "NewX", &o, &o.given, tt.opts, "WithN")
			var ce *Error
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("err = %v, want nil", err)
			case tt.field != "" && (!errors.As(err, &ce) || ce.Field != tt.field || ce.Package != "x"):
				t.Fatalf("err = %v, want a *Error for %s", err, tt.field)
			}
		})
	}
}

func TestSetAndAddRefuseNil(t *testing.T) {
	var given []string
	var logger fmt.Stringer
	if err := Set("x", &given, "WithThing", &logger, fmt.Stringer(nil)); err == nil || err.Error() != "x: invalid WithThing = <nil>: must not be nil" {
		t.Errorf("Set(nil) = %v", err)
	}
	var fn func()
	if err := Set("x", &given, "WithFunc", &fn, func() {}); err != nil || fn == nil {
		t.Errorf("Set(func) = %v", err)
	}
	var list []*int
	if err := Add("x", &given, "WithInt", &list, (*int)(nil)); err == nil || len(list) != 0 {
		t.Errorf("Add(nil pointer) = %v, list %v", err, list)
	}
	n := 1
	if err := Add("x", &given, "WithInt", &list, &n); err != nil || len(list) != 1 {
		t.Errorf("Add = %v, list %v", err, list)
	}
	if want := []string{"WithThing", "WithFunc", "WithInt", "WithInt"}; fmt.Sprint(given) != fmt.Sprint(want) {
		t.Errorf("given %v, want %v", given, want)
	}
}
