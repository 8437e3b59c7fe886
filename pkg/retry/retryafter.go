package retry

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryAfterer is implemented by errors that carry the server's own idea of
// how long to wait, such as *HTTPError. When the last error has one (found
// with errors.As), Execute waits that long instead of the computed backoff,
// but never longer than Config.MaxDelay.
type RetryAfterer interface {
	RetryAfter() (time.Duration, bool)
}

// maxDuration is what an overflowing Retry-After value becomes; Execute
// caps it at Config.MaxDelay anyway.
const maxDuration = time.Duration(math.MaxInt64)

// ParseRetryAfter parses the value of a Retry-After header (RFC 9110, section
// 10.2.3): either delay-seconds, a non-negative decimal integer, or an
// HTTP-date, which is taken relative to now (a date in the past means "now":
// zero). A delay too large for a time.Duration saturates at the largest one.
// ok is false for an empty or malformed value, a negative or fractional
// number among them.
func ParseRetryAfter(value string, now time.Time) (d time.Duration, ok bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if isDigits(value) {
		secs, err := strconv.ParseUint(value, 10, 64)
		if err != nil || secs > uint64(maxDuration/time.Second) {
			return maxDuration, true // only overflow is left as an error
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	if d = t.Sub(now); d < 0 {
		d = 0
	}
	return d, true
}

// parseRetryAfterMillis parses the "retry-after-ms" header some APIs (OpenAI
// among them) send: non-negative milliseconds, possibly with a fraction.
func parseRetryAfterMillis(value string) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	whole, frac, _ := strings.Cut(value, ".")
	if !isDigits(whole) || (frac != "" && !isDigits(frac)) {
		return 0, false
	}
	ms, err := strconv.ParseFloat(value, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return fromSeconds(ms / 1000), true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// RetryAfterFromHeader reads the server's wait hint from response headers:
// "retry-after-ms" when present and valid, else "Retry-After". An HTTP-date
// in Retry-After is taken relative to the response's own Date header, so the
// two clocks of the server cancel out and the local clock does not matter; a
// date without a valid Date header is ignored.
func RetryAfterFromHeader(h http.Header) (time.Duration, bool) {
	if d, ok := parseRetryAfterMillis(h.Get("Retry-After-Ms")); ok {
		return d, true
	}
	value := h.Get("Retry-After")
	if value == "" {
		return 0, false
	}
	if isDigits(strings.TrimSpace(value)) {
		return ParseRetryAfter(value, time.Time{})
	}
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return 0, false
	}
	return ParseRetryAfter(value, date)
}

// HTTPError is a response with a status code outside 2xx, as an error. It
// carries no URL, header or body, so it never exposes an API key or user
// data in logs.
type HTTPError struct {
	// Code is the status code, e.g. 503.
	Code int
	// Status is the status line, e.g. "503 Service Unavailable".
	Status string
	// Wait is the server's Retry-After hint, valid when HasWait is true.
	Wait    time.Duration
	HasWait bool
}

func (e *HTTPError) Error() string {
	msg := "retry: HTTP status " + e.Status
	if e.HasWait {
		msg += fmt.Sprintf(" (retry after %s)", e.Wait)
	}
	return msg
}

// StatusCode returns Code, for DefaultRetryable.
func (e *HTTPError) StatusCode() int { return e.Code }

// RetryAfter returns the server's wait hint.
func (e *HTTPError) RetryAfter() (time.Duration, bool) { return e.Wait, e.HasWait }

// FromResponse returns nil for a 2xx response and an *HTTPError for any
// other, with the wait hint of RetryAfterFromHeader. It neither reads nor
// closes the body: close it before returning the error from the retried
// function.
func FromResponse(resp *http.Response) error {
	if resp == nil {
		return errors.New("retry: FromResponse called with a nil *http.Response")
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	status := resp.Status
	if status == "" {
		status = strings.TrimSpace(fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode)))
	}
	wait, ok := RetryAfterFromHeader(resp.Header)
	return &HTTPError{Code: resp.StatusCode, Status: status, Wait: wait, HasWait: ok}
}
