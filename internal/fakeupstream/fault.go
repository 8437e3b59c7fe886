package fakeupstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// OutageMode says how an upstream in full outage fails.
type OutageMode string

// The outage modes.
const (
	// OutageNone: the upstream is up (faults may still be injected at
	// their rates).
	OutageNone OutageMode = ""
	// OutageError: every request is answered with the error status and
	// the upstream's error body.
	OutageError OutageMode = "error"
	// OutageReset: every connection is closed abruptly, without an
	// answer, as when a load balancer resets it.
	OutageReset OutageMode = "reset"
)

// Fault is what goes wrong with one upstream. The zero value is a healthy
// upstream.
//
// Each request draws one number in [0, 1) from the upstream's seeded
// sequence (see Server.SetSeed) and falls, in this order, into the error,
// hang, reset, malformed or truncated share, or into none. The rates may
// add up to at most 1. Latency applies to every request, before its
// answer, whatever the draw. An outage overrides the rates.
//
// Errors, hangs and resets come before the upstream looks at the request,
// as a failing gateway would. Malformed and truncated bodies spoil only
// answers that would have been 200: the upstream's own refusals (a wrong
// key, a bad request, an unknown food) are sent as they are.
type Fault struct {
	// Latency is added before every answer, faulted or not.
	Latency time.Duration
	// Jitter adds a further delay, uniform in [0, Jitter) and taken from
	// the seeded sequence, to Latency.
	Jitter time.Duration

	// ErrorRate is the share of requests (0 to 1) answered with
	// ErrorStatus and the upstream's own error body.
	ErrorRate float64
	// ErrorStatus is the HTTP status of injected errors and of an
	// OutageError, from 400 to 599; 0 means the upstream's
	// DefaultErrorStatus (503, or 529 for Anthropic).
	ErrorStatus int
	// ErrorCode, for OpenAI only, replaces the "code" of the error body,
	// e.g. "insufficient_quota" instead of the "rate_limit_exceeded" of a
	// 429 (an "insufficient_quota" code also sets the type of that name).
	// Empty means the code OpenAI sends with ErrorStatus.
	ErrorCode string
	// RetryAfter, when positive, is sent with every injected error: in the
	// retry-after header in whole seconds (rounded up) and, for OpenAI,
	// also in retry-after-ms.
	RetryAfter time.Duration

	// HangRate is the share of requests that never get an answer: the
	// handler waits until the client gives up (its context ends).
	HangRate float64
	// ResetRate is the share of requests whose connection is closed
	// abruptly, without an answer.
	ResetRate float64
	// MalformedRate is the share of requests answered 200 with a body
	// that is not valid JSON.
	MalformedRate float64
	// TruncatedRate is the share of requests answered 200 whose body
	// stops half-way: the announced Content-Length is not reached and the
	// connection is closed.
	TruncatedRate float64

	// Outage, when set, makes every request fail (see OutageMode).
	Outage OutageMode
}

// faultKind is the fate the draw gives one request.
type faultKind uint8

const (
	kindNone faultKind = iota
	kindError
	kindHang
	kindReset
	kindMalformed
	kindTruncated
	kindCount
)

// decide maps a draw in [0, 1) to the request's fate.
func (f *Fault) decide(draw float64) faultKind {
	switch f.Outage {
	case OutageError:
		return kindError
	case OutageReset:
		return kindReset
	}
	edge := 0.0
	for _, c := range [...]struct {
		rate float64
		kind faultKind
	}{
		{f.ErrorRate, kindError},
		{f.HangRate, kindHang},
		{f.ResetRate, kindReset},
		{f.MalformedRate, kindMalformed},
		{f.TruncatedRate, kindTruncated},
	} {
		edge += c.rate
		if draw < edge {
			return c.kind
		}
	}
	return kindNone
}

// delay returns the latency of a request whose jitter draw is draw.
func (f *Fault) delay(draw float64) time.Duration {
	return f.Latency + time.Duration(draw*float64(f.Jitter))
}

// errorStatus returns the status of the upstream's injected errors.
func (f *Fault) errorStatus(u Upstream) int {
	if f.ErrorStatus == 0 {
		return u.DefaultErrorStatus()
	}
	return f.ErrorStatus
}

// errorCodePattern is what an OpenAI error code looks like.
var errorCodePattern = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// Validate reports the first setting of f that is not valid for upstream
// u, naming it as in the admin JSON ("openai.error_rate: …").
func (f Fault) Validate(u Upstream) error {
	if _, ok := u.index(); !ok {
		return fmt.Errorf("fakeupstream: unknown upstream %q (want openai, anthropic, usda or web)", string(u))
	}
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("fakeupstream: %s.%s: %s", u, field, fmt.Sprintf(format, args...))
	}
	for _, d := range [...]struct {
		field string
		value time.Duration
	}{{"latency", f.Latency}, {"jitter", f.Jitter}, {"retry_after", f.RetryAfter}} {
		if d.value < 0 {
			return bad(d.field, "%s is negative", d.value)
		}
	}
	if f.Latency > math.MaxInt64-f.Jitter {
		return bad("jitter", "latency plus jitter overflows")
	}
	rates := [...]struct {
		field string
		value float64
	}{
		{"error_rate", f.ErrorRate},
		{"hang_rate", f.HangRate},
		{"reset_rate", f.ResetRate},
		{"malformed_rate", f.MalformedRate},
		{"truncated_rate", f.TruncatedRate},
	}
	sum := 0.0
	for _, r := range rates {
		if !(r.value >= 0 && r.value <= 1) { // NaN fails too
			return bad(r.field, "%v is not between 0 and 1", r.value)
		}
		sum += r.value
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("fakeupstream: %s: error_rate+hang_rate+reset_rate+malformed_rate+truncated_rate is %v, more than 1", u, sum)
	}
	if f.ErrorStatus != 0 && (f.ErrorStatus < 400 || f.ErrorStatus > 599) {
		return bad("error_status", "%d is not an HTTP error status (400 to 599, or 0 for %d)", f.ErrorStatus, u.DefaultErrorStatus())
	}
	if f.ErrorCode != "" {
		if u != OpenAI {
			return bad("error_code", "only OpenAI errors carry a code; %s errors are chosen by error_status", u)
		}
		if !errorCodePattern.MatchString(f.ErrorCode) {
			return bad("error_code", "%q is not a code of lower-case letters, digits and underscores", f.ErrorCode)
		}
	}
	switch f.Outage {
	case OutageNone, OutageError, OutageReset:
	default:
		return bad("outage", "%q is not one of \"\", \"error\", \"reset\"", string(f.Outage))
	}
	return nil
}

// faultJSON is the wire form of a Fault: durations are Go duration strings
// ("150ms", "2s").
type faultJSON struct {
	Latency       string     `json:"latency"`
	Jitter        string     `json:"jitter"`
	ErrorRate     float64    `json:"error_rate"`
	ErrorStatus   int        `json:"error_status"`
	ErrorCode     string     `json:"error_code"`
	RetryAfter    string     `json:"retry_after"`
	HangRate      float64    `json:"hang_rate"`
	ResetRate     float64    `json:"reset_rate"`
	MalformedRate float64    `json:"malformed_rate"`
	TruncatedRate float64    `json:"truncated_rate"`
	Outage        OutageMode `json:"outage"`
}

// MarshalJSON writes f as in the admin API: snake_case names and
// durations as strings.
func (f Fault) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultJSON{
		Latency:       f.Latency.String(),
		Jitter:        f.Jitter.String(),
		ErrorRate:     f.ErrorRate,
		ErrorStatus:   f.ErrorStatus,
		ErrorCode:     f.ErrorCode,
		RetryAfter:    f.RetryAfter.String(),
		HangRate:      f.HangRate,
		ResetRate:     f.ResetRate,
		MalformedRate: f.MalformedRate,
		TruncatedRate: f.TruncatedRate,
		Outage:        f.Outage,
	})
}

// UnmarshalJSON reads f from the admin API's JSON. Absent fields are zero;
// unknown fields, wrong types and bad durations are errors that name the
// field. The values are checked by Validate, not here.
func (f *Fault) UnmarshalJSON(data []byte) error {
	var w faultJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return jsonFieldError(err)
	}
	var out Fault
	for _, d := range [...]struct {
		field string
		text  string
		into  *time.Duration
	}{
		{"latency", w.Latency, &out.Latency},
		{"jitter", w.Jitter, &out.Jitter},
		{"retry_after", w.RetryAfter, &out.RetryAfter},
	} {
		if d.text == "" {
			continue
		}
		v, err := time.ParseDuration(d.text)
		if err != nil {
			return &fieldError{d.field, fmt.Sprintf("%q is not a duration such as \"250ms\" or \"2s\"", d.text)}
		}
		*d.into = v
	}
	out.ErrorRate, out.ErrorStatus, out.ErrorCode = w.ErrorRate, w.ErrorStatus, w.ErrorCode
	out.HangRate, out.ResetRate = w.HangRate, w.ResetRate
	out.MalformedRate, out.TruncatedRate = w.MalformedRate, w.TruncatedRate
	out.Outage = w.Outage
	*f = out
	return nil
}

// fieldError is a JSON error about one field of a Fault.
type fieldError struct {
	field string
	msg   string
}

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

// jsonFieldError rewrites encoding/json's errors so that they name the
// field in the admin JSON's terms.
func jsonFieldError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if typeErr.Field == "" {
			return fmt.Errorf("want a JSON object, got a JSON %s", typeErr.Value)
		}
		return &fieldError{typeErr.Field, fmt.Sprintf("want %s, got a JSON %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)}
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if quoted, ok := strings.CutPrefix(msg, "unknown field "); ok {
		if name, err := strconv.Unquote(quoted); err == nil {
			return &fieldError{name, "unknown field"}
		}
	}
	return errors.New(msg)
}

// jsonKind names a Go kind the way a JSON author would.
func jsonKind(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "an integer"
	case strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "true or false"
	}
	return "a " + kind
}
