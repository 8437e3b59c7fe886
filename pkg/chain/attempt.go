package chain

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/retry"
)

// Attempt describes one attempt a Guard made, as its observers see it.
type Attempt struct {
	// API is the Guard's name ("openai", "usda").
	API string
	// Status is "success", the HTTP status code ("503"), or the class of
	// an error without one ("timeout", "rejected"…). See Labels.
	Status string
	// ErrorType is the failure's class (see Labels), empty when the
	// attempt is no failure of the upstream: a success, or an error the
	// breaker's classifier does not count as a failure (an answer such as
	// "no such food", with Status "success" or its HTTP code; the caller's
	// own cancellation, with Status "canceled"). Rejected attempts are
	// failures of class "rejected" or "store_unavailable".
	ErrorType string
	// Called is false when the breaker rejected the attempt: no call was
	// made and Duration is zero.
	Called bool
	// Duration is how long the call took, timed by the Guard's clock.
	Duration time.Duration
	// Err is the attempt's error (nil on success), its text redacted.
	Err error
}

// Error classes returned by Labels.
const (
	ClassHTTP4xx          = "http_4xx"          // an HTTP status from 400 to 499
	ClassHTTP5xx          = "http_5xx"          // an HTTP status from 500 to 599
	ClassHTTPOther        = "http_other"        // any other HTTP status
	ClassRejected         = "rejected"          // the breaker refused the call
	ClassStoreUnavailable = "store_unavailable" // the breaker's store failed and it fails closed
	ClassCanceled         = "canceled"          // the caller cancelled
	ClassTimeout          = "timeout"           // a deadline passed, or a network timeout
	ClassConnection       = "connection"        // the connection failed or was cut
	ClassBadResponse      = "bad_response"      // a success status with an answer that is not what was asked (see BadResponse)
	ClassOther            = "other"             // anything else
)

// nonHTTPClasses are the classes that are also a status value.
var nonHTTPClasses = [...]string{ClassRejected, ClassStoreUnavailable, ClassCanceled, ClassTimeout, ClassConnection, ClassBadResponse, ClassOther}

// BadResponse is implemented by errors that say an upstream answered with
// a success status (HTTP 200) but not with what was asked for: a body that
// is not JSON, JSON of another shape, an empty answer, a model's output
// that breaks the schema it was given. Labels gives an error holding one
// (found with errors.As) whose BadResponse method returns true the class
// "bad_response", and the breaker's default classifier counts it as a
// failure: a broken integration is as unhealthy as an outage, and shows
// apart from one. A client marks its decoding errors so without importing
// this package (usda.DecodeError is one).
type BadResponse interface {
	BadResponse() bool
}

// IsBadResponse reports whether err holds a BadResponse whose method
// returns true.
func IsBadResponse(err error) bool {
	var br BadResponse
	return errors.As(err, &br) && br.BadResponse()
}

// ErrorTypes lists every error_type Labels returns, for callers that
// pre-create label values.
func ErrorTypes() []string {
	return append([]string{ClassHTTP4xx, ClassHTTP5xx, ClassHTTPOther}, nonHTTPClasses[:]...)
}

// Statuses lists every status Labels returns but the HTTP codes:
// "success" and the classes of errors without a code.
func Statuses() []string {
	return append([]string{"success"}, nonHTTPClasses[:]...)
}

// Labels maps an attempt's error, taken as a failure, to the status and
// error_type labels of the API metrics. nil is ("success", ""). An error
// carrying an HTTP status code (a retry.StatusCoder) gives the code and
// "http_4xx" or "http_5xx"; any other error gives its class twice:
// "rejected", "store_unavailable", "canceled", "timeout", "connection",
// "bad_response" (see BadResponse) or "other". Label values stay few. A Guard clears the error_type of the
// errors its breaker's classifier does not count as failures (see
// Attempt.ErrorType).
func Labels(err error) (status, errorType string) {
	if err == nil {
		return "success", ""
	}
	class := classOf(err)
	if class == "" {
		var sc retry.StatusCoder
		errors.As(err, &sc)
		code := sc.StatusCode()
		return strconv.Itoa(code), httpClass(code)
	}
	return class, class
}

// classOf returns the class of an error without an HTTP status code, or ""
// when err has one.
func classOf(err error) string {
	if errors.Is(err, dbreaker.ErrStoreUnavailable) {
		return ClassStoreUnavailable
	}
	if dbreaker.IsRejected(err) {
		return ClassRejected
	}
	if hasStatusCode(err) {
		return ""
	}
	if IsBadResponse(err) {
		return ClassBadResponse
	}
	if errors.Is(err, context.Canceled) {
		return ClassCanceled
	}
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout() {
		return ClassTimeout
	}
	var urlErr *url.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &urlErr) || errors.As(err, &opErr) || errors.As(err, &dnsErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) {
		return ClassConnection
	}
	return ClassOther
}

// hasStatusCode reports whether err carries an HTTP status code.
func hasStatusCode(err error) bool {
	var sc retry.StatusCoder
	return errors.As(err, &sc)
}

func httpClass(code int) string {
	switch {
	case code >= 400 && code < 500:
		return ClassHTTP4xx
	case code >= 500 && code < 600:
		return ClassHTTP5xx
	}
	return ClassHTTPOther
}
