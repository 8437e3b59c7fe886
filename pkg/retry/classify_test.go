package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/healthagent/resilience/pkg/dbreaker"
)

// sdkError stands for an SDK's error type with a status code field.
type sdkError struct{ code int }

func (e *sdkError) Error() string { return fmt.Sprintf("sdk: status %d", e.code) }

// sdkAdapter is the adapter pattern of StatusCoder's documentation.
type sdkAdapter struct{ err *sdkError }

func (a sdkAdapter) Error() string   { return a.err.Error() }
func (a sdkAdapter) Unwrap() error   { return a.err }
func (a sdkAdapter) StatusCode() int { return a.err.code }

// timeoutError is a net.Error; temporary is deliberately irrelevant.
type timeoutError struct{ timeout bool }

func (e timeoutError) Error() string   { return "i/o timeout" }
func (e timeoutError) Timeout() bool   { return e.timeout }
func (e timeoutError) Temporary() bool { return true }

func opError(errno syscall.Errno) error {
	return &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: errno}}
}

func TestDefaultRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"unknown error", errors.New("boom"), false},

		{"HTTP 408", &HTTPError{Code: 408}, true},
		{"HTTP 429", &HTTPError{Code: 429}, true},
		{"HTTP 500", &HTTPError{Code: 500}, true},
		{"HTTP 502", &HTTPError{Code: 502}, true},
		{"HTTP 503", &HTTPError{Code: 503}, true},
		{"HTTP 504", &HTTPError{Code: 504}, true},
		{"HTTP 529", &HTTPError{Code: 529}, true},
		{"HTTP 400", &HTTPError{Code: 400}, false},
		{"HTTP 401", &HTTPError{Code: 401}, false},
		{"HTTP 403", &HTTPError{Code: 403}, false},
		{"HTTP 404", &HTTPError{Code: 404}, false},
		{"HTTP 422", &HTTPError{Code: 422}, false},
		{"HTTP 501 is not listed", &HTTPError{Code: 501}, false},
		{"HTTP 200 as an error", &HTTPError{Code: 200}, false},
		{"wrapped 503", fmt.Errorf("usda: search: %w", &HTTPError{Code: 503}), true},
		{"wrapped 404", fmt.Errorf("usda: search: %w", &HTTPError{Code: 404}), false},
		{"SDK adapter 529", fmt.Errorf("anthropic: %w", sdkAdapter{&sdkError{529}}), true},
		{"SDK adapter 401", sdkAdapter{&sdkError{401}}, false},
		{"SDK error without adapter", &sdkError{503}, false},
		{"status code wins over a wrapped timeout", fmt.Errorf("%w: %w", &HTTPError{Code: 400}, context.DeadlineExceeded), false},

		{"per-attempt deadline", context.DeadlineExceeded, true},
		{"wrapped deadline", fmt.Errorf("openai: %w", context.DeadlineExceeded), true},
		{"context canceled", context.Canceled, false},
		{"wrapped context canceled", fmt.Errorf("openai: %w", context.Canceled), false},
		{"canceled with a retryable status", fmt.Errorf("%w: %w", &HTTPError{Code: 503}, context.Canceled), false},

		{"net timeout", &net.OpError{Op: "dial", Net: "tcp", Err: timeoutError{true}}, true},
		{"net error, not a timeout", &net.OpError{Op: "dial", Net: "tcp", Err: timeoutError{false}}, false},
		{"os deadline", fmt.Errorf("read: %w", os.ErrDeadlineExceeded), true},
		{"temporary DNS failure", &net.DNSError{Err: "server misbehaving", Name: "api.openai.com", IsTemporary: true}, true},
		{"DNS not found", &net.DNSError{Err: "no such host", Name: "api.openai.com", IsNotFound: true}, false},

		{"connection reset", opError(syscall.ECONNRESET), true},
		{"connection refused", opError(syscall.ECONNREFUSED), true},
		{"connection aborted", opError(syscall.ECONNABORTED), true},
		{"connection timed out", opError(syscall.ETIMEDOUT), true},
		{"broken pipe", opError(syscall.EPIPE), true},
		{"bare errno", syscall.ECONNRESET, true},
		{"url error around a reset", &url.Error{Op: "Post", URL: "https://api.example", Err: opError(syscall.ECONNRESET)}, true},
		{"permission denied", opError(syscall.EACCES), false},

		{"unexpected EOF", io.ErrUnexpectedEOF, true},
		{"wrapped unexpected EOF", fmt.Errorf("decode: %w", io.ErrUnexpectedEOF), true},
		{"EOF from the HTTP client", &url.Error{Op: "Post", URL: "https://api.example", Err: io.EOF}, true},
		{"EOF on a connection", &net.OpError{Op: "read", Net: "tcp", Err: io.EOF}, true},
		{"bare EOF", io.EOF, false},

		{"permanent 503", Permanent(&HTTPError{Code: 503}), false},
		{"permanent reset", Permanent(syscall.ECONNRESET), false},
		{"wrapped permanent", fmt.Errorf("step: %w", Permanent(io.ErrUnexpectedEOF)), false},

		{"breaker open", fmt.Errorf("openai: %w", dbreaker.ErrOpen), false},
		{"breaker forced open", fmt.Errorf("openai: %w", dbreaker.ErrForcedOpen), false},
		{"breaker probes busy", fmt.Errorf("openai: %w", dbreaker.ErrTooManyProbes), false},
		{"breaker store unavailable", fmt.Errorf("openai: %w", dbreaker.ErrStoreUnavailable), false},
		{"rejection joined with a reset", errors.Join(dbreaker.ErrOpen, syscall.ECONNRESET), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DefaultRetryable(tt.err); got != tt.want {
				t.Errorf("DefaultRetryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestPermanent(t *testing.T) {
	inner := &HTTPError{Code: 503, Status: "503 Service Unavailable"}
	tests := []struct {
		name          string
		err           error
		wantPermanent bool
		wantInner     bool
	}{
		{"nil stays nil", Permanent(nil), false, false},
		{"wrapped", Permanent(inner), true, true},
		{"wrapped twice", fmt.Errorf("chain: %w", Permanent(inner)), true, true},
		{"plain error", inner, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "nil stays nil" && tt.err != nil {
				t.Fatalf("Permanent(nil) = %v, want nil", tt.err)
			}
			if got := IsPermanent(tt.err); got != tt.wantPermanent {
				t.Errorf("IsPermanent = %v, want %v", got, tt.wantPermanent)
			}
			var he *HTTPError
			if got := errors.As(tt.err, &he) && he == inner; got != tt.wantInner {
				t.Errorf("errors.As finds the inner error: %v, want %v", got, tt.wantInner)
			}
			if tt.wantInner && !errors.Is(tt.err, inner) {
				t.Error("errors.Is does not see the inner error")
			}
		})
	}
	if got := Permanent(inner).Error(); got != inner.Error() {
		t.Errorf("Permanent(err).Error() = %q, want the inner message %q", got, inner.Error())
	}
}
