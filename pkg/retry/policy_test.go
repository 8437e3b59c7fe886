package retry

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/healthagent/resilience/pkg/config"
)

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name   string
		policy Config
		field  string // "" when valid
		value  string // text of the value the message must show
	}{
		{"zero policy", Config{}, "", ""},
		{"no retries", Config{MaxRetries: NoRetries}, "", ""},
		{"many retries", Config{MaxRetries: 100}, "", ""},
		{"base equals max", Config{BaseDelay: time.Second, MaxDelay: time.Second}, "", ""},
		{"full jitter fraction", Config{JitterFraction: 1}, "", ""},
		{"decorrelated", Config{Jitter: JitterDecorrelated}, "", ""},
		{"retries below NoRetries", Config{MaxRetries: -2}, "MaxRetries", "-2"},
		{"negative base delay", Config{BaseDelay: -time.Second}, "BaseDelay", "-1s"},
		{"negative max delay", Config{MaxDelay: -time.Millisecond}, "MaxDelay", "-1ms"},
		{"max below base", Config{BaseDelay: 2 * time.Second, MaxDelay: time.Second}, "MaxDelay", "1s"},
		{"base above default max", Config{BaseDelay: time.Minute}, "BaseDelay", "1m0s"},
		{"max below default base", Config{MaxDelay: 500 * time.Millisecond}, "MaxDelay", "500ms"},
		{"unknown jitter", Config{Jitter: Jitter(9)}, "Jitter", "jitter(9)"},
		{"negative fraction", Config{JitterFraction: -0.1}, "JitterFraction", "-0.1"},
		{"fraction above one", Config{JitterFraction: 1.5}, "JitterFraction", "1.5"},
		{"NaN fraction", Config{JitterFraction: math.NaN()}, "JitterFraction", "NaN"},
		{"fraction with full jitter", Config{Jitter: JitterFull, JitterFraction: 0.2}, "JitterFraction", "0.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("Validate() = %v, want a *config.Error", err)
			}
			if ce.Field != tt.field {
				t.Errorf("Field = %q, want %q", ce.Field, tt.field)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "retry: invalid "+tt.field+" = "+tt.value+":") {
				t.Errorf("message %q does not name %s = %s", msg, tt.field, tt.value)
			}
		})
	}
}

func TestPolicySettingsDefaults(t *testing.T) {
	tests := []struct {
		name         string
		policy       Config
		wantRetries  int
		wantBase     time.Duration
		wantMax      time.Duration
		wantFraction float64
	}{
		{"zero", Config{}, 3, time.Second, 30 * time.Second, 0.1},
		{"no retries", Config{MaxRetries: NoRetries}, 0, time.Second, 30 * time.Second, 0.1},
		{"explicit", Config{MaxRetries: 5, BaseDelay: time.Millisecond, MaxDelay: time.Second, JitterFraction: 0.5}, 5, time.Millisecond, time.Second, 0.5},
		{"no jitter keeps fraction zero", Config{Jitter: JitterNone}, 3, time.Second, 30 * time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.policy.Validate(); err != nil {
				t.Fatal(err)
			}
			p := newPolicy(t, "", tt.policy)
			s := p.s
			if s.maxRetries != tt.wantRetries || s.base != tt.wantBase || s.max != tt.wantMax || s.fraction != tt.wantFraction {
				t.Errorf("settings = retries %d base %s max %s fraction %v, want %d %s %s %v",
					s.maxRetries, s.base, s.max, s.fraction, tt.wantRetries, tt.wantBase, tt.wantMax, tt.wantFraction)
			}
			if s.retryable == nil || p.clock == nil || p.rand == nil || p.logger == nil {
				t.Error("classifier, clock, rand and logger must default to non-nil")
			}
		})
	}
}

func TestEnumStrings(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{JitterProportional.String(), "proportional"},
		{JitterFull.String(), "full"},
		{JitterDecorrelated.String(), "decorrelated"},
		{JitterNone.String(), "none"},
		{Jitter(7).String(), "jitter(7)"},
		{StopSuccess.String(), "success"},
		{StopNotRetryable.String(), "not_retryable"},
		{StopExhausted.String(), "exhausted"},
		{StopBudgetExhausted.String(), "budget_exhausted"},
		{StopDeadline.String(), "deadline"},
		{StopContextDone.String(), "context_done"},
		{StopReason(42).String(), "stop_reason(42)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("String() = %q, want %q", tt.got, tt.want)
			}
		})
	}
}

// Retries takes a count that means what it says: n retries, 0 none; a
// negative count, NoRetries's value included, is no count and is refused.
func TestRetriesCountsWhatItSays(t *testing.T) {
	for _, tt := range []struct{ n, attempts int }{{0, 1}, {1, 2}, {3, 4}} {
		s := failing(errReset, 100)
		maxRetries, err := Retries(tt.n)
		if err != nil {
			t.Fatalf("Retries(%d): %v", tt.n, err)
		}
		_, err = Execute(t.Context(), newPolicy(t, "", Config{MaxRetries: maxRetries}, WithClock(newAutoClock())), s.fn)
		if got := int(s.calls.Load()); got != tt.attempts || !errors.Is(err, ErrExhausted) {
			t.Errorf("Retries(%d): %d attempts (%v), want %d", tt.n, got, err, tt.attempts)
		}
	}
	for _, n := range []int{NoRetries, -2, math.MinInt} {
		var ce *config.Error
		if _, err := Retries(n); !errors.As(err, &ce) || ce.Package != "retry" || ce.Value != n || !strings.Contains(err.Error(), "negative") {
			t.Errorf("Retries(%d) = %v; want a *config.Error saying the count is negative", n, err)
		}
	}
}
