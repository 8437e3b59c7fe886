package chain_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/clocktest"
	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/retry"
)

// TestSecretsStayOutOfLogs calls an upstream whose URL carries
// api_key=SECRET and fails in ways whose errors quote the URL, and checks
// that SECRET appears in no log line ([RETRY], [CIRCUIT_BREAKER],
// [FALLBACK]), in no returned error text, in no recorded attempt and not in
// the breaker's last_error.
func TestSecretsStayOutOfLogs(t *testing.T) {
	const secret = "SECRET"
	tests := []struct {
		name string
		// upstream returns the base URL of a failing upstream.
		upstream func(t *testing.T) string
		errType  string
		// attempt: the attempt timeout; only the timeout case is about it,
		// the other gets room on a busy machine.
		attempt time.Duration
	}{
		{
			name: "connection refused",
			upstream: func(t *testing.T) string {
				srv := httptest.NewServer(http.NotFoundHandler())
				u := srv.URL
				srv.Close() // nothing listens there any more
				return u
			},
			errType: chain.ClassConnection,
			attempt: 10 * time.Second,
		},
		{
			name: "attempt timeout",
			upstream: func(t *testing.T) string {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					<-r.Context().Done() // hang until the client gives up
				}))
				t.Cleanup(srv.Close)
				return srv.URL
			},
			errType: chain.ClassTimeout,
			attempt: 50 * time.Millisecond,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			base := tt.upstream(t)
			var logs logBuffer
			logger := newLogger(&logs)
			clock := clocktest.New(start)
			b, err := dbreaker.New("usda", memStore(t, dbreaker.WithClock(clock)), dbreaker.Config{FailureThreshold: 2},
				dbreaker.WithClock(clock), dbreaker.WithLogger(logger))
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			g, err := chain.NewGuard("usda", chain.GuardConfig{
				Breaker:        b,
				Retry:          newPolicy(t, "usda", retry.Config{MaxRetries: 3}, retry.WithClock(newRetryClock()), retry.WithLogger(logger)),
				AttemptTimeout: tt.attempt,
			}, chain.WithObserver(rec))
			if err != nil {
				t.Fatal(err)
			}
			fetch := func(ctx context.Context) (string, error) {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/fdc/v1/foods/search?api_key="+secret+"&query=apple", nil)
				if err != nil {
					return "", retry.Permanent(err)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return "", err
				}
				defer resp.Body.Close()
				return "", retry.FromResponse(resp)
			}
			nutrition, err := chain.New("nutrition", []chain.Step[string]{chain.GuardedStep(g, fetch)}, chain.WithLogger(logger))
			if err != nil {
				t.Fatal(err)
			}
			_, runErr := nutrition.Execute(ctx)
			if runErr == nil {
				t.Fatal("Execute succeeded against a failing upstream")
			}

			// The failure really happened, quoted the URL, and was logged
			// by every layer: the test could have caught a leak.
			out := logs.String()
			for _, want := range []string{"[RETRY]", "[CIRCUIT_BREAKER] state changed", "[FALLBACK] no step served", "search?REDACTED"} {
				if !strings.Contains(out, want) {
					t.Errorf("logs lack %q:\n%s", want, out)
				}
			}
			st := rec.statuses()
			if want := []string{tt.errType, tt.errType}; !slices.Equal(st, want) {
				t.Errorf("attempts recorded %v, want %v: two failures open the breaker, and the retry stops", st, want)
			}
			if !errors.Is(runErr, dbreaker.ErrOpen) {
				t.Errorf("Execute returned %v, want it to end in the open breaker's rejection", runErr)
			}

			if strings.Contains(out, secret) {
				t.Errorf("logs contain the API key:\n%s", out)
			}
			if strings.Contains(runErr.Error(), secret) {
				t.Errorf("the chain's error contains the API key: %v", runErr)
			}
			rec.mu.Lock()
			for _, a := range rec.attempts {
				if a.Err != nil && strings.Contains(a.Err.Error(), secret) {
					t.Errorf("a recorded attempt's error contains the API key: %v", a.Err)
				}
			}
			rec.mu.Unlock()
			s, err := b.State(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if s.LastError == "" || strings.Contains(s.LastError, secret) {
				t.Errorf("breaker last_error %q: want the failure without the API key", s.LastError)
			}
		})
	}
}
