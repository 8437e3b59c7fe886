package retry

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	tests := []struct {
		name   string
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"seconds", "120", 120 * time.Second, true},
		{"zero", "0", 0, true},
		{"leading zeros", "007", 7 * time.Second, true},
		{"surrounding spaces", "  7 ", 7 * time.Second, true},
		{"largest whole duration", "9223372036", 9223372036 * time.Second, true},
		{"one second more saturates", "9223372037", maxDuration, true},
		{"overflowing uint64 saturates", "99999999999999999999999999", maxDuration, true},
		{"IMF-fixdate in the future", at(30 * time.Second), 30 * time.Second, true},
		{"RFC 850 date", now.Add(90 * time.Second).Format(time.RFC850), 90 * time.Second, true},
		{"asctime date", now.Add(time.Hour).Format(time.ANSIC), time.Hour, true},
		{"date in the past means now", at(-time.Hour), 0, true},
		{"date equal to now", at(0), 0, true},
		{"empty", "", 0, false},
		{"spaces only", "   ", 0, false},
		{"negative", "-5", 0, false},
		{"plus sign", "+5", 0, false},
		{"fraction", "1.5", 0, false},
		{"unit suffix", "5s", 0, false},
		{"hex", "0x10", 0, false},
		{"garbage", "soon, please", 0, false},
		{"broken date", "Wed, 99 Foo 2026 25:61:00 GMT", 0, false},
		{"date in another zone", now.Add(time.Minute).Format(time.RFC1123Z), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseRetryAfter(tt.value, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseRetryAfter(%q) = %s, %v; want %s, %v", tt.value, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestParseRetryAfterMillis(t *testing.T) {
	tests := []struct {
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"1500", 1500 * time.Millisecond, true},
		{"250.5", 250500 * time.Microsecond, true},
		{"0", 0, true},
		{" 20 ", 20 * time.Millisecond, true},
		{"1" + strings.Repeat("0", 400), maxDuration, true},
		{"", 0, false},
		{"-1", 0, false},
		{".5", 0, false},
		{"1.2.3", 0, false},
		{"1e3", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"ten", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, ok := parseRetryAfterMillis(tt.value)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("parseRetryAfterMillis(%q) = %s, %v; want %s, %v", tt.value, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestRetryAfterFromHeader(t *testing.T) {
	date := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
		wantOK bool
	}{
		{"none", nil, 0, false},
		{"seconds", map[string]string{"Retry-After": "3"}, 3 * time.Second, true},
		{"milliseconds win", map[string]string{"Retry-After": "3", "retry-after-ms": "1250"}, 1250 * time.Millisecond, true},
		{"bad milliseconds fall back", map[string]string{"Retry-After": "3", "retry-after-ms": "soon"}, 3 * time.Second, true},
		{"date relative to the Date header", map[string]string{
			"Date": date.Format(http.TimeFormat), "Retry-After": date.Add(90 * time.Second).Format(http.TimeFormat),
		}, 90 * time.Second, true},
		{"date before the Date header", map[string]string{
			"Date": date.Format(http.TimeFormat), "Retry-After": date.Add(-time.Minute).Format(http.TimeFormat),
		}, 0, true},
		{"date without a Date header", map[string]string{"Retry-After": date.Format(http.TimeFormat)}, 0, false},
		{"date with a broken Date header", map[string]string{"Date": "yesterday", "Retry-After": date.Format(http.TimeFormat)}, 0, false},
		{"garbage", map[string]string{"Retry-After": "later"}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			got, ok := RetryAfterFromHeader(h)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("RetryAfterFromHeader = %s, %v; want %s, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestFromResponse(t *testing.T) {
	secretURL, _ := url.Parse("https://api.nal.usda.gov/fdc/v1/foods/search?api_key=SECRET123&query=apple")
	tests := []struct {
		name       string
		resp       *http.Response
		wantNil    bool
		wantCode   int
		wantStatus string
		wantWait   time.Duration
		wantHas    bool
		retryable  bool
	}{
		{"200", &http.Response{StatusCode: 200, Status: "200 OK"}, true, 0, "", 0, false, false},
		{"204", &http.Response{StatusCode: 204}, true, 0, "", 0, false, false},
		{"503 with Retry-After", &http.Response{StatusCode: 503, Status: "503 Service Unavailable",
			Header: http.Header{"Retry-After": {"5"}}}, false, 503, "503 Service Unavailable", 5 * time.Second, true, true},
		{"429 with retry-after-ms", &http.Response{StatusCode: 429, Status: "429 Too Many Requests",
			Header: http.Header{"Retry-After-Ms": {"800"}}}, false, 429, "429 Too Many Requests", 800 * time.Millisecond, true, true},
		{"529 without a status line", &http.Response{StatusCode: 529}, false, 529, "529", 0, false, true},
		{"404 without a status line", &http.Response{StatusCode: 404}, false, 404, "404 Not Found", 0, false, false},
		{"301 is not success", &http.Response{StatusCode: 301, Status: "301 Moved Permanently"}, false, 301, "301 Moved Permanently", 0, false, false},
		{"400 from a URL with a key", &http.Response{StatusCode: 400, Status: "400 Bad Request",
			Request: &http.Request{Method: "GET", URL: secretURL}}, false, 400, "400 Bad Request", 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := FromResponse(tt.resp)
			if tt.wantNil {
				if err != nil {
					t.Fatalf("FromResponse = %v, want nil", err)
				}
				return
			}
			var he *HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("FromResponse = %v, want an *HTTPError", err)
			}
			if he.Code != tt.wantCode || he.Status != tt.wantStatus || he.Wait != tt.wantWait || he.HasWait != tt.wantHas {
				t.Errorf("HTTPError = %+v, want code %d status %q wait %s/%v", *he, tt.wantCode, tt.wantStatus, tt.wantWait, tt.wantHas)
			}
			if got := DefaultRetryable(err); got != tt.retryable {
				t.Errorf("DefaultRetryable = %v, want %v", got, tt.retryable)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "retry: HTTP status "+tt.wantStatus) {
				t.Errorf("message %q does not start with the status", msg)
			}
			if strings.Contains(msg, "SECRET123") || strings.Contains(msg, "usda.gov") {
				t.Errorf("message %q leaks the request URL", msg)
			}
		})
	}
	if err := FromResponse(nil); err == nil || DefaultRetryable(err) {
		t.Errorf("FromResponse(nil) = %v, want a non-retryable error", err)
	}
}

func TestHTTPErrorMessageShowsWait(t *testing.T) {
	err := &HTTPError{Code: 429, Status: "429 Too Many Requests", Wait: 2 * time.Second, HasWait: true}
	if got, want := err.Error(), "retry: HTTP status 429 Too Many Requests (retry after 2s)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if d, ok := err.RetryAfter(); d != 2*time.Second || !ok {
		t.Errorf("RetryAfter() = %s, %v", d, ok)
	}
}

// FuzzParseRetryAfter: no header value panics the parser or yields a
// negative delay.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "0", "-1", "1.5", "Wed, 21 Oct 2015 07:28:00 GMT", "99999999999999999999", "", " 7 "} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d, ok := ParseRetryAfter(v, now); ok && d < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v", v, d)
		} else if !ok && d != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v with ok=false", v, d)
		}
	})
}
