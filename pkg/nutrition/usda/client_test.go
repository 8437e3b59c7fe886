package usda

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/clocktest"
	"github.com/healthagent/resilience/pkg/config"
	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
	"github.com/healthagent/resilience/pkg/retry"
)

// testAPIKey is the key the tests use; no error may show it.
const testAPIKey = "k3y-S3CRET-abc123"

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testStart is the fake clock's starting time in tests.
var testStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// usdaServer serves handler and returns a client of it with a fake clock.
func usdaServer(t *testing.T, cfg Config, handler http.HandlerFunc) (*Client, *clocktest.Clock) {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	clock := clocktest.New(testStart)
	cfg.APIKey, cfg.BaseURL = testAPIKey, srv.URL
	c, err := New(cfg, WithHTTPClient(srv.Client()), WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	return c, clock
}

// assertNoKey fails the test if err's text shows the API key.
func assertNoKey(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testAPIKey) {
		t.Errorf("error shows the API key: %v", err)
	}
}

func TestUSDASearch(t *testing.T) {
	body := readTestdata(t, "search_chicken_breast.json")
	var got atomic.Pointer[http.Request]
	c, _ := usdaServer(t, Config{PageSize: 3, DataTypes: []string{"Foundation", "SR Legacy"}}, func(w http.ResponseWriter, r *http.Request) {
		got.Store(r)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	ctx := context.Background()
	r, err := c.Search(ctx, "chicken breast")
	if err != nil {
		t.Fatal(err)
	}
	req := got.Load()
	q := req.URL.Query()
	if req.Method != http.MethodGet || req.URL.Path != "/fdc/v1/foods/search" || q.Get("api_key") != testAPIKey ||
		q.Get("query") != "chicken breast" || q.Get("pageSize") != "3" || q.Get("dataType") != "Foundation,SR Legacy" {
		t.Errorf("request = %s %s, want GET /fdc/v1/foods/search with api_key, query, pageSize=3, dataType", req.Method, req.URL.Path)
	}
	// USDA's first food is raw; "chicken breast" means it cooked, and the
	// SR Legacy food second in USDA's order is that.
	want := nutrition.Result{Query: "chicken breast", Source: nutrition.SourceUSDA, ID: "171477", Description: "Chicken, broilers or fryers, breast, meat only, cooked, roasted",
		DataType: "SR Legacy", NDB: "05064", Per100g: sr24.Nutrients{EnergyKcal: 165, ProteinG: 31, FatG: 3.57, SodiumMg: 74}, FetchedAt: testStart}
	if r != want {
		t.Errorf("Search =\n%+v, want\n%+v", r, want)
	}

	all, err := c.SearchFoods(ctx, "chicken breast")
	if err != nil {
		t.Fatal(err)
	}
	// The Foundation food gives energy only as the Atwater energies (958
	// is preferred to 957) and in kJ, carbohydrate only by summation
	// (205.2); it has no fiber, which stays unknown, not 0. Its ndbNumber
	// is a JSON number.
	foundation := nutrition.Result{Query: "chicken breast", Source: nutrition.SourceUSDA, ID: "2646170", Description: "Chicken, breast, boneless, skinless, raw",
		DataType: "Foundation", NDB: "05062", Per100g: sr24.Nutrients{EnergyKcal: 106, ProteinG: 22.5, FatG: 1.93, SodiumMg: 59},
		Unknown: sr24.NutrientSet(0).With(sr24.Fiber), FetchedAt: testStart}
	if len(all) != 3 || all[0] != foundation || all[1] != want || all[2].DataType != "Branded" || all[2].NDB != "" {
		t.Errorf("SearchFoods = %+v, want the Foundation, SR Legacy and Branded foods of the response", all)
	}
}

func TestUSDASearchFindsNothing(t *testing.T) {
	tests := []struct {
		name, body, reason string
	}{
		{"no food", string(readTestdata(t, "search_empty.json")), "found no food"},
		{"no food gives energy", `{"foods":[{"fdcId":1,"description":"Water, tap","foodNutrients":[{"nutrientNumber":"307","unitName":"MG","value":4}]}]}`, "gives energy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := usdaServer(t, Config{}, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, tt.body) })
			_, err := c.Search(context.Background(), "qqqq zzzz")
			if !errors.Is(err, nutrition.ErrNotFound) || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("Search = %v, want nutrition.ErrNotFound saying %q", err, tt.reason)
			}
		})
	}
}

func TestUSDAFood(t *testing.T) {
	body := readTestdata(t, "food_171477.json")
	c, _ := usdaServer(t, Config{}, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/fdc/v1/food/171477" || r.URL.Query().Get("api_key") != testAPIKey {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_, _ = w.Write(body)
	})
	ctx := context.Background()
	r, err := c.Food(ctx, 171477)
	if err != nil {
		t.Fatal(err)
	}
	want := nutrition.Result{Source: nutrition.SourceUSDA, ID: "171477", Description: "Chicken, broilers or fryers, breast, meat only, cooked, roasted",
		DataType: "SR Legacy", NDB: "05064", Per100g: sr24.Nutrients{EnergyKcal: 165, ProteinG: 31.02, FatG: 3.57, SodiumMg: 74}, FetchedAt: testStart}
	if r != want {
		t.Errorf("Food =\n%+v, want\n%+v", r, want)
	}
	_, err = c.Food(ctx, 999)
	var ue *Error
	if !errors.Is(err, nutrition.ErrNotFound) || !errors.As(err, &ue) || ue.Status != 404 {
		t.Errorf("Food of an unknown id = %v, want a 404 *Error matching nutrition.ErrNotFound", err)
	}
	var ce *config.Error
	if _, err := c.Food(ctx, 0); !errors.As(err, &ce) {
		t.Errorf("Food(0) = %v, want a *config.Error", err)
	}
}

func TestUSDAErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    map[string]string
		body      string
		code      string
		retryable bool
		wait      time.Duration
	}{
		{"rate limited", 429, map[string]string{"Retry-After": "7"}, string(readTestdata(t, "error_429.json")), "OVER_RATE_LIMIT", true, 7 * time.Second},
		{"rate limited without a hint", 429, nil, string(readTestdata(t, "error_429.json")), "OVER_RATE_LIMIT", true, 0},
		{"invalid key", 403, nil, string(readTestdata(t, "error_403.json")), "API_KEY_INVALID", false, 0},
		{"key echoed in the message", 403, nil, `{"error":{"code":"API_KEY_INVALID","message":"key ` + testAPIKey + ` is not valid, see https://x.test/?api_key=` + testAPIKey + `"}}`, "API_KEY_INVALID", false, 0},
		{"bad request", 400, nil, `{"timestamp":"2024-01-01T00:00:00.000+00:00","status":400,"error":"Bad Request","message":"pageSize must be at most 200","path":"/fdc/v1/foods/search"}`, "", false, 0},
		{"gateway error page", 502, nil, "<html><body>Bad Gateway</body></html>", "", true, 0},
		{"unavailable, empty body", 503, nil, "", "", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := usdaServer(t, Config{}, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			_, err := c.Search(context.Background(), "chicken breast")
			var ue *Error
			if !errors.As(err, &ue) {
				t.Fatalf("Search = %v, want a *Error", err)
			}
			if ue.Status != tt.status || ue.StatusCode() != tt.status || ue.Code != tt.code || ue.Op != "search" {
				t.Errorf("Error = %+v, want status %d, code %q", ue, tt.status, tt.code)
			}
			if got := retry.DefaultRetryable(err); got != tt.retryable {
				t.Errorf("retry.DefaultRetryable = %v, want %v", got, tt.retryable)
			}
			if wait, ok := ue.RetryAfter(); wait != tt.wait || ok != (tt.wait > 0) {
				t.Errorf("RetryAfter = %v, %v; want %v", wait, ok, tt.wait)
			}
			if !strings.HasPrefix(err.Error(), "usda: search: status ") || (tt.code != "" && !strings.Contains(err.Error(), tt.code)) {
				t.Errorf("error text %q lacks the prefix, status or code", err)
			}
			if errors.Is(err, nutrition.ErrNotFound) {
				t.Errorf("a %d of a search matches nutrition.ErrNotFound", tt.status)
			}
			assertNoKey(t, err)
		})
	}
}

func TestUSDABadBodies(t *testing.T) {
	search := readTestdata(t, "search_chicken_breast.json")
	tests := []struct {
		name string
		body string
		want string
	}{
		{"malformed", `{"foods": [}`, "usda: decode search response: invalid character"},
		{"truncated", string(search[:len(search)/2]), "usda: decode search response: unexpected end of JSON input"},
		{"empty", "", "usda: decode search response: empty body"},
		{"not a search", `{"fdcId": 1}`, `usda: decode search response: no "foods" list`},
		{"null", "null", `no "foods" list`},
		{"wrong type", `{"foods": {"fdcId": 1}}`, "decode search response: json: cannot unmarshal object"},
		{"food without id", `{"foods": [{"description": "x"}]}`, "food 0 has no fdcId"},
		{"trailing garbage", string(search) + "}", "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := usdaServer(t, Config{}, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, tt.body) })
			_, err := c.Search(context.Background(), "chicken breast")
			var de *DecodeError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Search = %v, want a *DecodeError containing %q", err, tt.want)
			}
			if retry.DefaultRetryable(err) {
				t.Error("a bad body is classified retryable")
			}
			var br interface{ BadResponse() bool }
			if !errors.As(err, &br) || !br.BadResponse() {
				t.Error("a bad body is not a bad response (chain.BadResponse)")
			}
		})
	}
}

func TestUSDATransportFailures(t *testing.T) {
	t.Run("slower than the timeout", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		c, _ := usdaServer(t, Config{Timeout: 50 * time.Millisecond}, func(w http.ResponseWriter, r *http.Request) {
			select { // answer only when the client has given up
			case <-r.Context().Done():
			case <-release:
			}
		})
		_, err := c.Search(context.Background(), "chicken breast")
		if !errors.Is(err, context.DeadlineExceeded) || !retry.DefaultRetryable(err) {
			t.Errorf("Search = %v, want a retryable context.DeadlineExceeded", err)
		}
		if !strings.HasPrefix(err.Error(), "usda: search: ") {
			t.Errorf("error %q lacks the prefix", err)
		}
		assertNoKey(t, err)
	})

	t.Run("body slower than the timeout", func(t *testing.T) {
		c, _ := usdaServer(t, Config{Timeout: 50 * time.Millisecond}, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"foods": [`)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		})
		_, err := c.Search(context.Background(), "chicken breast")
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "read response") {
			t.Errorf("Search = %v, want context.DeadlineExceeded while reading the response", err)
		}
		assertNoKey(t, err)
	})

	t.Run("connection cut mid-body", func(t *testing.T) {
		c, _ := usdaServer(t, Config{}, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			_, _ = io.WriteString(w, `{"foods": [`)
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		})
		_, err := c.Search(context.Background(), "chicken breast")
		if !errors.Is(err, io.ErrUnexpectedEOF) || !retry.DefaultRetryable(err) {
			t.Errorf("Search = %v, want a retryable io.ErrUnexpectedEOF", err)
		}
		assertNoKey(t, err)
	})

	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		c, err := New(Config{APIKey: testAPIKey, BaseURL: "http://" + addr})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Search(context.Background(), "chicken breast")
		var ue interface{ Timeout() bool }
		if err == nil || !retry.DefaultRetryable(err) || !errors.As(err, &ue) {
			t.Errorf("Search = %v, want a retryable connection error", err)
		}
		if !strings.Contains(err.Error(), "/fdc/v1/foods/search") {
			t.Errorf("error %q does not say which endpoint failed", err)
		}
		assertNoKey(t, err)
	})

	t.Run("response too large", func(t *testing.T) {
		body := readTestdata(t, "search_chicken_breast.json")
		c, _ := usdaServer(t, Config{MaxBodyBytes: 1000}, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) })
		_, err := c.Search(context.Background(), "chicken breast")
		if err == nil || !strings.Contains(err.Error(), "larger than 1000 bytes") {
			t.Errorf("Search = %v, want a size error", err)
		}
	})
}

// TestUSDAWithRetry checks the client's errors drive package retry: a 429
// is retried (after its Retry-After of 0 s), a 403 is not.
func TestUSDAWithRetry(t *testing.T) {
	tests := []struct {
		name     string
		failures int
		status   int
		calls    int32
		ok       bool
	}{
		{"rate limited twice", 2, 429, 3, true},
		{"invalid key", 5, 403, 1, false},
	}
	body := readTestdata(t, "search_chicken_breast.json")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			c, _ := usdaServer(t, Config{}, func(w http.ResponseWriter, r *http.Request) {
				if int(calls.Add(1)) <= tt.failures {
					w.Header().Set("Retry-After", "0")
					w.WriteHeader(tt.status)
					_, _ = io.WriteString(w, `{"error":{"code":"X"}}`)
					return
				}
				_, _ = w.Write(body)
			})
			policy, err := retry.New("usda", retry.Config{}, retry.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			r, err := retry.Execute(context.Background(), policy, func(ctx context.Context) (nutrition.Result, error) {
				return c.Search(ctx, "chicken breast")
			})
			if (err == nil) != tt.ok || calls.Load() != tt.calls {
				t.Errorf("retry.Execute = %+v, %v after %d calls; want success %v after %d", r, err, calls.Load(), tt.ok, tt.calls)
			}
		})
	}
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"no key", Config{}, "APIKey"},
		{"blank key", Config{APIKey: "  "}, "APIKey"},
		{"relative URL", Config{APIKey: "k", BaseURL: "api.nal.usda.gov"}, "BaseURL"},
		{"ftp URL", Config{APIKey: "k", BaseURL: "ftp://api.nal.usda.gov"}, "BaseURL"},
		{"URL with query", Config{APIKey: "k", BaseURL: "https://api.nal.usda.gov?api_key=secret"}, "BaseURL"},
		{"URL with credentials", Config{APIKey: "k", BaseURL: "https://user:secret@api.nal.usda.gov"}, "BaseURL"},
		{"negative timeout", Config{APIKey: "k", Timeout: -time.Second}, "Timeout"},
		{"page too large", Config{APIKey: "k", PageSize: 201}, "PageSize"},
		{"negative body size", Config{APIKey: "k", MaxBodyBytes: -1}, "MaxBodyBytes"},
		{"blank data type", Config{APIKey: "k", DataTypes: []string{""}}, "DataTypes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Field != tt.field {
				t.Fatalf("New = %v, want a *config.Error for %s", err, tt.field)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error shows a secret: %v", err)
			}
		})
	}
	c, err := New(Config{APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.Timeout != DefaultTimeout || c.cfg.PageSize != DefaultPageSize || c.search != DefaultBaseURL+"/fdc/v1/foods/search" {
		t.Errorf("defaults = timeout %v, page size %d, %s", c.cfg.Timeout, c.cfg.PageSize, c.search)
	}
	var ce *config.Error
	if _, err := c.Search(context.Background(), " "); !errors.As(err, &ce) {
		t.Errorf("Search of a blank query = %v, want a *config.Error", err)
	}
}

// FoodData Central responses written from its documented schema, with the
// field types real responses have (an integer ndbNumber, nutrient numbers
// as strings, "205.2" for carbohydrate by summation): a generic search for
// rice and a Foundation food.
func TestUSDAGenericSearchPrefersTheFormEaten(t *testing.T) {
	body := readTestdata(t, "search_rice_generic.json")
	var got atomic.Pointer[http.Request]
	c, _ := usdaServer(t, Config{PageSize: 4}, func(w http.ResponseWriter, r *http.Request) {
		got.Store(r)
		_, _ = w.Write(body)
	})
	ctx := context.Background()
	r, err := c.SearchFor(ctx, nutrition.Query{Name: "rice"})
	if err != nil {
		t.Fatal(err)
	}
	q := got.Load().URL.Query()
	if q.Get("dataType") != "Foundation,SR Legacy,Survey (FNDDS)" || q.Get("requireAllWords") != "true" {
		t.Errorf("search asked dataType=%q requireAllWords=%q, want the generic types and every word", q.Get("dataType"), q.Get("requireAllWords"))
	}
	// "rice" is cooked rice: not the raw Foundation or SR Legacy foods USDA
	// lists first, but the cooked Survey food after them.
	if r.ID != "2344669" || r.DataType != "Survey (FNDDS)" || r.Per100g.EnergyKcal != 130 || r.NDB != "" {
		t.Errorf("SearchFor(rice) = %+v, want the cooked rice of FNDDS", r)
	}

	// A food the embedded data matched is searched by its description and
	// answered by the food with its NDB number.
	r, err = c.SearchFor(ctx, nutrition.Query{Name: "rice", NDB: "20045", Description: "Rice, white, long-grain, regular, cooked"})
	if err != nil {
		t.Fatal(err)
	}
	q = got.Load().URL.Query()
	if q.Get("query") != "Rice, white, long-grain, regular, cooked" || q.Get("requireAllWords") != "" {
		t.Errorf("search for a matched food asked %q (requireAllWords %q), want its description", q.Get("query"), q.Get("requireAllWords"))
	}
	if r.ID != "168878" || r.NDB != "20045" {
		t.Errorf("SearchFor(NDB 20045) = %+v, want FDC 168878, NDB 20045", r)
	}

	// A branded product is searched among branded foods too.
	if _, err := c.SearchFor(ctx, nutrition.Query{Name: "kind bar", Branded: true}); err != nil {
		t.Fatal(err)
	}
	if dt := got.Load().URL.Query().Get("dataType"); dt != "Foundation,SR Legacy,Survey (FNDDS),Branded" {
		t.Errorf("branded search asked dataType=%q", dt)
	}

	foods, err := DecodeSearch(body)
	if err != nil {
		t.Fatal(err)
	}
	foundation := foods[0]
	if foundation.NDB != "20444" || foundation.DataType != "Foundation" || foundation.Per100g.EnergyKcal != 358 ||
		foundation.Per100g.CarbohydrateG != 80.3 || !foundation.Unknown.Has(sr24.Fiber) || foundation.Unknown.Has(sr24.Carbohydrate) {
		t.Errorf("Foundation food = %+v: want NDB 20444, 958 energy, 205.2 carbohydrate, fiber unknown", foundation)
	}
}

func TestUSDAFoundationFood(t *testing.T) {
	r, err := DecodeFood(readTestdata(t, "food_2512381_foundation.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := nutrition.Result{Source: nutrition.SourceUSDA, ID: "2512381", Description: "Rice, white, long grain, unenriched, raw", DataType: "Foundation", NDB: "20444",
		Per100g: sr24.Nutrients{EnergyKcal: 358, ProteinG: 7.04, CarbohydrateG: 80.3, FatG: 1.03, SodiumMg: 1}, Unknown: sr24.NutrientSet(0).With(sr24.Fiber)}
	if r != want {
		t.Errorf("DecodeFood =\n%+v, want\n%+v", r, want)
	}
}

func TestUSDANDBNumberTypes(t *testing.T) {
	for _, tt := range []struct{ json, want string }{
		{`5064`, "05064"}, {`"5064"`, "05064"}, {`20444`, "20444"}, {`null`, ""}, {`""`, ""}, {`56205005`, ""}, {`-3`, ""},
	} {
		body := `{"foods":[{"fdcId":1,"description":"X","ndbNumber":` + tt.json + `,"foodNutrients":[]}]}`
		foods, err := DecodeSearch([]byte(body))
		if err != nil || foods[0].NDB != tt.want {
			t.Errorf("ndbNumber %s: %v, %v; want %q", tt.json, foods, err, tt.want)
		}
	}
	if _, err := DecodeSearch([]byte(`{"foods":[{"fdcId":1,"description":"X","ndbNumber":{},"foodNutrients":[]}]}`)); err == nil {
		t.Error("an object as ndbNumber decoded without error")
	}
}
