// Package config holds the one error type of the module for configuration
// that cannot work: a field, an option or an argument with an invalid
// value. Every package returns it, so one errors.As finds it whichever
// package refused:
//
//	_, err := dbreaker.New("openai", store, dbreaker.Config{FailureThreshold: -2})
//	var ce *config.Error
//	if errors.As(err, &ce) {
//		fmt.Println(ce.Field) // FailureThreshold
//	}
//
// An invalid value is never replaced by a default: the constructor returns
// the error, and its message names the package, the field, the value and
// what was wanted.
package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Error says which configuration field, option or argument is invalid, its
// value, and why. It is the module's ConfigError.
type Error struct {
	// Package is the package that refused the value ("dbreaker",
	// "retry"...); the message starts with it.
	Package string
	// Field names what is invalid: a field ("FailureThreshold",
	// "steps[0].Guard"), an option ("WithClock") or an argument.
	Field string
	// Value is the value given (shortened or redacted where it could be
	// long or hold a secret).
	Value any
	// Reason says what was wanted.
	Reason string
}

// Error returns, for example,
//
//	dbreaker: invalid FailureThreshold = -2: want a positive count or dbreaker.Off (-1)
//
// Strings are quoted, so that a control character in one shows.
func (e *Error) Error() string {
	value := fmt.Sprint(e.Value)
	if s, ok := e.Value.(string); ok {
		value = fmt.Sprintf("%q", s)
	}
	return e.Package + ": invalid " + e.Field + " = " + value + ": " + e.Reason
}

// ApplyOptions applies the functional options opts to o, in order, for the
// constructor what of package pkg ("NewRedisStore" of "dbreaker"), and then
// checks that it takes every option given: each option records its name in
// *given (an "WithClock"), and accepted lists the names the constructor
// takes. A nil option, an option that returns an error, and an option the
// constructor does not take are a *Error naming it.
func ApplyOptions[O any, F ~func(*O) error](pkg, what string, o *O, given *[]string, opts []F, accepted ...string) error {
	for i, opt := range opts {
		if opt == nil {
			return &Error{Package: pkg, Field: "option", Value: nil, Reason: what + ": option " + strconv.Itoa(i) + " is nil"}
		}
		if err := opt(o); err != nil {
			return err
		}
	}
	for _, name := range *given {
		if !slices.Contains(accepted, name) {
			return &Error{Package: pkg, Field: name, Value: "given", Reason: what + " does not take it; it takes " + strings.Join(accepted, ", ")}
		}
	}
	return nil
}

// Set is the body of a functional option that gives a collaborator: it
// records the option's name in *given and stores v in *dst, refusing a nil
// v (a nil clock, logger or function) with a *Error naming the option.
func Set[T any](pkg string, given *[]string, name string, dst *T, v T) error {
	*given = append(*given, name)
	if isNil(v) {
		return &Error{Package: pkg, Field: name, Value: nil, Reason: "must not be nil"}
	}
	*dst = v
	return nil
}

// Add is Set for an option that may be given several times (WithObserver):
// it appends v to *dst.
func Add[S ~[]T, T any](pkg string, given *[]string, name string, dst *S, v T) error {
	var one T
	if err := Set(pkg, given, name, &one, v); err != nil {
		return err
	}
	*dst = append(*dst, one)
	return nil
}

// isNil reports whether v is nil, or a nil pointer, function, interface,
// map, slice or channel.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Interface, reflect.Map, reflect.Slice, reflect.Chan:
		return rv.IsNil()
	}
	return false
}
