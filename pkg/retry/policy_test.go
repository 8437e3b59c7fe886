package retry

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name   string
		policy *Policy
		field  string // "" when valid
		value  string // text of the value the message must show
	}{
		{"nil policy", nil, "", ""},
		{"zero policy", &Policy{}, "", ""},
		{"no retries", &Policy{MaxRetries: NoRetries}, "", ""},
		{"many retries", &Policy{MaxRetries: 100}, "", ""},
		{"base equals max", &Policy{BaseDelay: time.Second, MaxDelay: time.Second}, "", ""},
		{"full jitter fraction", &Policy{JitterFraction: 1}, "", ""},
		{"decorrelated", &Policy{Jitter: JitterDecorrelated}, "", ""},
		{"retries below NoRetries", &Policy{MaxRetries: -2}, "MaxRetries", "-2"},
		{"negative base delay", &Policy{BaseDelay: -time.Second}, "BaseDelay", "-1s"},
		{"negative max delay", &Policy{MaxDelay: -time.Millisecond}, "MaxDelay", "-1ms"},
		{"max below base", &Policy{BaseDelay: 2 * time.Second, MaxDelay: time.Second}, "MaxDelay", "1s"},
		{"base above default max", &Policy{BaseDelay: time.Minute}, "BaseDelay", "1m0s"},
		{"max below default base", &Policy{MaxDelay: 500 * time.Millisecond}, "MaxDelay", "500ms"},
		{"unknown jitter", &Policy{Jitter: Jitter(9)}, "Jitter", "jitter(9)"},
		{"negative fraction", &Policy{JitterFraction: -0.1}, "JitterFraction", "-0.1"},
		{"fraction above one", &Policy{JitterFraction: 1.5}, "JitterFraction", "1.5"},
		{"NaN fraction", &Policy{JitterFraction: math.NaN()}, "JitterFraction", "NaN"},
		{"fraction with full jitter", &Policy{Jitter: JitterFull, JitterFraction: 0.2}, "JitterFraction", "0.2"},
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
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Validate() = %v, want a *ConfigError", err)
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
		policy       Policy
		wantRetries  int
		wantBase     time.Duration
		wantMax      time.Duration
		wantFraction float64
	}{
		{"zero", Policy{}, 3, time.Second, 30 * time.Second, 0.1},
		{"no retries", Policy{MaxRetries: NoRetries}, 0, time.Second, 30 * time.Second, 0.1},
		{"explicit", Policy{MaxRetries: 5, BaseDelay: time.Millisecond, MaxDelay: time.Second, JitterFraction: 0.5}, 5, time.Millisecond, time.Second, 0.5},
		{"no jitter keeps fraction zero", Policy{Jitter: JitterNone}, 3, time.Second, 30 * time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.policy.Validate(); err != nil {
				t.Fatal(err)
			}
			s := tt.policy.settings()
			if s.maxRetries != tt.wantRetries || s.base != tt.wantBase || s.max != tt.wantMax || s.fraction != tt.wantFraction {
				t.Errorf("settings = retries %d base %s max %s fraction %v, want %d %s %s %v",
					s.maxRetries, s.base, s.max, s.fraction, tt.wantRetries, tt.wantBase, tt.wantMax, tt.wantFraction)
			}
			if s.classify == nil || s.clock == nil || s.rand == nil {
				t.Error("classifier, clock and rand must default to non-nil")
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
