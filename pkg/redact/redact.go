// Package redact removes secrets from text that is about to be logged,
// stored or returned in an error: the user info and the query string of
// every URL in it, where API keys and passwords travel.
//
// Usage:
//
//	logger.Warn("[RETRY] giving up", "error", redact.ErrorText(err.Error()))
//
// The breaker applies it to the last_error it stores, the Guard and the
// chains to the errors and log lines they write.
package redact

import "strings"

// ErrorText removes what must not be stored or logged from an error's
// text: the user info and the query string of every URL in it (API keys
// travel there, e.g. "?api_key=…").
func ErrorText(s string) string {
	if !strings.Contains(s, "://") {
		return s // no URL: nothing to remove, nothing to copy
	}
	var out strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			out.WriteString(s)
			return out.String()
		}
		out.WriteString(s[:i+3])
		rest := s[i+3:]
		end := strings.IndexAny(rest, " \t\n\"'`<>")
		if end < 0 {
			end = len(rest)
		}
		u := rest[:end]
		authority := u
		if slash := strings.IndexAny(u, "/?#"); slash >= 0 {
			authority = u[:slash]
		}
		if at := strings.LastIndexByte(authority, '@'); at >= 0 {
			u = "REDACTED@" + u[at+1:]
		}
		if q := strings.IndexAny(u, "?#"); q >= 0 {
			u = u[:q] + "?REDACTED"
		}
		out.WriteString(u)
		s = rest[end:]
	}
}

// Error returns err with its text redacted as ErrorText does, or err itself
// when there is nothing to hide (an *url.Error names the request URL, API
// key included). errors.Is and errors.As still see the error beneath.
func Error(err error) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	if r := ErrorText(text); r != text {
		return &redactedError{text: r, err: err}
	}
	return err
}

// redactedError is an error whose text was redacted.
type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }
