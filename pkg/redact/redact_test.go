package redact

import (
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestErrorText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain error", "plain error"},
		{`Get "https://api.nal.usda.gov/fdc/v1/foods/search?api_key=SECRET&query=egg": EOF`,
			`Get "https://api.nal.usda.gov/fdc/v1/foods/search?REDACTED": EOF`},
		{"dial redis://user:hunter2@10.0.0.1:6379/0 failed", "dial redis://REDACTED@10.0.0.1:6379/0 failed"},
		{"http://host/path/a@b?x=1", "http://host/path/a@b?REDACTED"},
		{"two: http://a/?k=1 and http://b/#frag", "two: http://a/?REDACTED and http://b/?REDACTED"},
		{"://", "://"},
	}
	for _, tt := range tests {
		if got := ErrorText(tt.in); got != tt.want {
			t.Errorf("ErrorText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestErrorKeepsTheErrorBeneath(t *testing.T) {
	inner := &url.Error{Op: "Get", URL: "https://api.example/search?api_key=SECRET", Err: io.ErrUnexpectedEOF}
	err := Error(inner)
	if strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "?REDACTED") {
		t.Errorf("Error(...).Error() = %q, want the query redacted", err)
	}
	var ue *url.Error
	if !errors.As(err, &ue) || ue != inner || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("errors.As/Is do not see through %v", err)
	}
	plain := errors.New("plain")
	if Error(plain) != plain || Error(nil) != nil {
		t.Error("an error with nothing to hide is not returned as it is")
	}
}
