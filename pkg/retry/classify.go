package retry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
)

// StatusCoder is implemented by errors that carry an HTTP status code, such
// as *HTTPError. DefaultRetryable finds it anywhere in an error chain with
// errors.As, so an SDK's error type fits through a small adapter that
// exposes the code (see ExampleStatusCoder):
//
//	type openAIStatus struct{ err *openai.Error }
//
//	func (a openAIStatus) Error() string   { return a.err.Error() }
//	func (a openAIStatus) Unwrap() error   { return a.err }
//	func (a openAIStatus) StatusCode() int { return a.err.StatusCode }
//
// The retried function returns openAIStatus{apiErr} when errors.As finds the
// SDK's error. A RetryAfter method (see RetryAfterer and
// RetryAfterFromHeader) passes the server's wait hint on as well.
type StatusCoder interface {
	StatusCode() int
}

// RetryableStatus reports whether an HTTP status code is worth a retry: 408
// Request Timeout, 429 Too Many Requests, 500, 502, 503, 504, and 529
// (Anthropic's "overloaded"). Every other code, 400, 401, 403, 404 and 422
// among them, is not.
func RetryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout,
		http.StatusTooManyRequests,
		http.StatusInternalServerError,
		http.StatusBadGateway,
		http.StatusServiceUnavailable,
		http.StatusGatewayTimeout,
		529:
		return true
	}
	return false
}

// DefaultRetryable reports whether err is known to be transient, and so
// worth another attempt: the default of Config.Retryable. It is
// conservative: an error is retried only when it is recognised as one of
//
//   - an error with a StatusCode() int method (found with errors.As) whose
//     code RetryableStatus accepts; any other code is final, whatever else
//     the error wraps;
//   - context.DeadlineExceeded, which reaches Execute from a per-attempt
//     timeout (Execute itself stops when the caller's own context is done);
//   - a net.Error whose Timeout() is true, or a *net.DNSError that is
//     temporary;
//   - ECONNRESET, ECONNREFUSED, ECONNABORTED, ETIMEDOUT or EPIPE;
//   - io.ErrUnexpectedEOF (a response cut short), or io.EOF inside a
//     *url.Error or *net.OpError (the server closed the connection).
//
// Everything else, unknown errors included, is not retried: a retry of an
// unknown error more often repeats a bug or a bad request than it cures an
// outage, and every attempt against a paid model API costs money and adds
// load while the upstream struggles. Teach the classifier about an error by
// giving it a StatusCode method (see StatusCoder) or by wrapping
// DefaultRetryable in a Config.Retryable.
//
// context.Canceled, Permanent errors and rejections are never retryable.
func DefaultRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || IsPermanent(err) || IsRejection(err) {
		return false
	}
	var sc StatusCoder
	if errors.As(err, &sc) {
		return RetryableStatus(sc.StatusCode())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsTemporary {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	if errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.ETIMEDOUT) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	if errors.Is(err, io.EOF) {
		var urlErr *url.Error
		var opErr *net.OpError
		return errors.As(err, &urlErr) || errors.As(err, &opErr)
	}
	return false
}

// Rejection is implemented by errors that say a call was refused before it
// started, such as a circuit breaker's rejections (package dbreaker's
// sentinels and *RejectedError): the call never reached the upstream, and
// retrying it would only wait for nothing. Execute never retries an error
// that holds one (found with errors.As) whose Rejected method returns true.
type Rejection interface {
	Rejected() bool
}

// IsRejection reports whether err, or an error it wraps (through Unwrap,
// as errors.Is walks the tree), is a Rejection that says it was refused. It
// allocates nothing: Execute asks it after every failed attempt.
func IsRejection(err error) bool {
	for err != nil {
		if r, ok := err.(Rejection); ok && r.Rejected() {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if IsRejection(e) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// permanentError marks an error that must not be retried.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that Execute stops at once, whatever
// Config.Retryable says. errors.Is and errors.As still see err. When the
// retried function returns a Permanent error as it is, Execute returns err
// itself. Permanent(nil)
// is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}
