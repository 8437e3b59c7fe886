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

// Attempt describes one attempt a Guard made, as its Recorder sees it.
type Attempt struct {
	// API is the Guard's name ("openai", "usda").
	API string
	// Status is "success", the HTTP status code ("503"), or the ErrorType of
	// an error without one ("timeout", "rejected"…). See Classify.
	Status string
	// ErrorType is the failure's class (empty on success). See Classify.
	ErrorType string
	// Called is false when the breaker rejected the attempt: no call was
	// made and Duration is zero.
	Called bool
	// Duration is how long the call took, timed by the Guard's clock.
	Duration time.Duration
	// Err is the attempt's error (nil on success), its text redacted.
	Err error
}

// Recorder receives a Guard's measurements. Its methods run on the caller's
// goroutine and must be quick and safe for concurrent use. Package metrics
// implements it (api_calls_total, api_call_duration_seconds,
// api_failures_total, api_retries_total).
type Recorder interface {
	// ObserveAttempt is called once per attempt, rejected attempts included.
	ObserveAttempt(ctx context.Context, a Attempt)
	// ObserveRetry is called before the wait for each retry.
	ObserveRetry(ctx context.Context, api string, e retry.RetryEvent)
}

// Error classes returned by Classify, besides "http_4xx", "http_5xx" and
// "http_other".
const (
	ClassRejected         = "rejected"          // the breaker refused the call
	ClassStoreUnavailable = "store_unavailable" // the breaker's store failed and it fails closed
	ClassCanceled         = "canceled"          // the caller cancelled
	ClassTimeout          = "timeout"           // a deadline passed, or a network timeout
	ClassConnection       = "connection"        // the connection failed or was cut
	ClassOther            = "other"             // anything else
)

// Classify maps an attempt's error to the status and error_type labels of
// the API metrics. nil is ("success", ""). An error carrying an HTTP status
// code (a retry.StatusCoder) gives the code and "http_4xx" or "http_5xx";
// any other error gives its class twice: "rejected", "store_unavailable",
// "canceled", "timeout", "connection" or "other". Label values stay few.
func Classify(err error) (status, errorType string) {
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
	var sc retry.StatusCoder
	if errors.As(err, &sc) {
		return ""
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

func httpClass(code int) string {
	switch {
	case code >= 400 && code < 500:
		return "http_4xx"
	case code >= 500 && code < 600:
		return "http_5xx"
	}
	return "http_other"
}
