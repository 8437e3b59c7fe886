package usda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/healthagent/resilience/pkg/clock"
	"github.com/healthagent/resilience/pkg/config"
	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/internal/text"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
	"github.com/healthagent/resilience/pkg/redact"
	"github.com/healthagent/resilience/pkg/retry"
)

// Defaults of Config.
const (
	DefaultBaseURL      = "https://api.nal.usda.gov"
	DefaultTimeout      = 5 * time.Second
	DefaultPageSize     = 10
	DefaultMaxBodyBytes = 4 << 20
)

// DefaultDataTypes are the data types searched when Config gives
// none: generic foods, as eaten, not branded products.
var DefaultDataTypes = []string{"Foundation", "SR Legacy", "Survey (FNDDS)"}

// maxPageSize is FoodData Central's largest page.
const maxPageSize = 200

// maxErrorBody is how much of an error response is read for its code.
const maxErrorBody = 64 << 10

// Config configures a Client. Only APIKey is required.
type Config struct {
	// APIKey is the api.data.gov key. It is sent as the api_key query
	// parameter and never appears in an error.
	APIKey string
	// BaseURL is FoodData Central's address, an http or https URL without
	// query; empty means DefaultBaseURL.
	BaseURL string
	// Timeout bounds each request, body included; 0 means
	// DefaultTimeout (5 s). Negative is invalid.
	Timeout time.Duration
	// PageSize is the number of foods a search asks for, 1 to 200; 0 means
	// DefaultPageSize (10).
	PageSize int
	// DataTypes limits searches to these FoodData Central data types;
	// empty means DefaultDataTypes, the generic foods (a Query asking
	// for a branded product adds "Branded").
	DataTypes []string
	// MaxBodyBytes caps the size of a response; 0 means
	// DefaultMaxBodyBytes (4 MiB). Negative is invalid.
	MaxBodyBytes int64
}

// Option gives a Client a collaborator.
type Option func(*options) error

type options struct {
	httpClient *http.Client
	clock      clock.Clock

	given []string // the names of the options given, in order
}

// WithHTTPClient sets the client that sends the requests (default: a
// client of the Client's own on http.DefaultTransport). Its own Timeout,
// if any, applies too.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error { return config.Set("usda", &o.given, "WithHTTPClient", &o.httpClient, hc) }
}

// WithClock sets the clock that stamps Result.FetchedAt (default
// clock.Real()).
func WithClock(c clock.Clock) Option {
	return func(o *options) error { return config.Set("usda", &o.given, "WithClock", &o.clock, c) }
}

// Client reads nutrition facts from USDA FoodData Central. Its methods
// are plain functions of (ctx, query) for a fallback chain to wrap in
// retry, breaker and timeout. It is safe for concurrent use.
type Client struct {
	cfg    Config
	search string // URL of the search endpoint, without query
	food   string // URL of the food endpoint, without the id
	httpc  *http.Client
	clock  clock.Clock
}

// New validates cfg and returns a client. It takes WithHTTPClient and
// WithClock. Errors are *config.Error naming the field.
func New(cfg Config, opts ...Option) (*Client, error) {
	bad := invalid
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, bad("APIKey", "", "an api.data.gov key is required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(cfg.BaseURL)
	switch {
	case err != nil:
		return nil, bad("BaseURL", cfg.BaseURL, "not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, bad("BaseURL", cfg.BaseURL, "want an http or https URL")
	case u.Host == "":
		return nil, bad("BaseURL", cfg.BaseURL, "the URL has no host")
	case u.User != nil:
		return nil, bad("BaseURL", redact.ErrorText(cfg.BaseURL), "credentials do not belong in the URL")
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return nil, bad("BaseURL", redact.ErrorText(cfg.BaseURL), "want a URL without query or fragment")
	}
	switch {
	case cfg.Timeout < 0:
		return nil, bad("Timeout", cfg.Timeout.String(), "want a positive duration, or 0 for the default")
	case cfg.Timeout == 0:
		cfg.Timeout = DefaultTimeout
	}
	switch {
	case cfg.PageSize < 0 || cfg.PageSize > maxPageSize:
		return nil, bad("PageSize", cfg.PageSize, "want 1 to 200, or 0 for the default")
	case cfg.PageSize == 0:
		cfg.PageSize = DefaultPageSize
	}
	switch {
	case cfg.MaxBodyBytes < 0:
		return nil, bad("MaxBodyBytes", cfg.MaxBodyBytes, "want a positive size, or 0 for the default")
	case cfg.MaxBodyBytes == 0:
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if len(cfg.DataTypes) == 0 {
		cfg.DataTypes = DefaultDataTypes
	}
	for _, dt := range cfg.DataTypes {
		if strings.TrimSpace(dt) == "" || strings.Contains(dt, ",") {
			return nil, bad("DataTypes", cfg.DataTypes, "each data type must be a non-empty name without commas")
		}
	}
	o := options{httpClient: &http.Client{}, clock: clock.Real()}
	if err := config.ApplyOptions("usda", "New", &o, &o.given, opts, "WithHTTPClient", "WithClock"); err != nil {
		return nil, err
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	return &Client{
		cfg:    cfg,
		search: base + "/fdc/v1/foods/search",
		food:   base + "/fdc/v1/food/",
		httpc:  o.httpClient,
		clock:  o.clock,
	}, nil
}

// invalid returns the *config.Error of this package for field.
func invalid(field string, value any, reason string) error {
	return &config.Error{Package: "usda", Field: field, Value: value, Reason: reason}
}

// Search asks FoodData Central for foods matching query and returns the
// one that best fits: of those whose energy is known, the one whose form
// is nearest the one the name means (sr24.AsEaten: cooked rice for "rice",
// not raw), in USDA's order otherwise, generic before branded. The error
// wraps nutrition.ErrNotFound when there is none, is a *Error for a response
// outside 2xx, a *DecodeError for a body that is not a search response, and
// otherwise says what failed (the request, reading the body), wrapping the
// cause so that package retry can classify it.
func (c *Client) Search(ctx context.Context, query string) (nutrition.Result, error) {
	return c.SearchFor(ctx, nutrition.Query{Name: query})
}

// SearchFor looks a Query up: a food the embedded data matched (q.NDB) is
// searched by its SR24 description and answered by the result with the
// same NDB number when USDA gives it; a name alone is searched requiring
// all its words. Generic data types only, unless q.Branded. See Search for
// the choice and the errors.
func (c *Client) SearchFor(ctx context.Context, q nutrition.Query) (nutrition.Result, error) {
	text := q.Name
	if q.NDB != "" && q.Description != "" {
		text = q.Description
	}
	types := c.cfg.DataTypes
	if q.Branded && !slices.Contains(types, "Branded") {
		types = append(slices.Clone(types), "Branded")
	}
	foods, err := c.searchFoods(ctx, text, types, q.NDB == "")
	if err != nil {
		return nutrition.Result{}, err
	}
	return bestFood(text, q.NDB, foods)
}

// bestFood picks the answer to a search for text among foods (see Search).
func bestFood(text, ndb string, foods []nutrition.Result) (nutrition.Result, error) {
	best, bestScore := -1, math.Inf(1)
	for i, r := range foods {
		if r.Unknown.Has(sr24.Energy) {
			continue
		}
		if ndb != "" && r.NDB == ndb {
			return r, nil
		}
		score := sr24.AsEaten(text, r.Description) + 0.02*float64(i)
		if r.DataType == "Branded" {
			score += 0.1
		}
		if score < bestScore {
			best, bestScore = i, score
		}
	}
	if best >= 0 {
		return foods[best], nil
	}
	if len(foods) == 0 {
		return nutrition.Result{}, nutrition.NotFound(text, "USDA FoodData Central found no food")
	}
	return nutrition.Result{}, nutrition.NotFound(text, fmt.Sprintf("none of the %d foods USDA FoodData Central found gives energy", len(foods)))
}

// SearchFoods returns the foods FoodData Central finds for query, in its
// order, up to Config.PageSize; none when it finds none. Each nutrition.Result
// has Query set to query, so it can be saved with Store.SaveAnswer.
func (c *Client) SearchFoods(ctx context.Context, query string) ([]nutrition.Result, error) {
	return c.searchFoods(ctx, query, c.cfg.DataTypes, false)
}

// searchFoods runs one search of the given data types, requiring every
// word of query in a food's description when requireAll.
func (c *Client) searchFoods(ctx context.Context, query string, dataTypes []string, requireAll bool) ([]nutrition.Result, error) {
	if strings.TrimSpace(query) == "" || len(query) > sr24.MaxNameBytes {
		return nil, invalid("query", text.Short(query), fmt.Sprintf("want a food name of 1 to %d bytes", sr24.MaxNameBytes))
	}
	if err := nutrition.CheckText(query); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("api_key", c.cfg.APIKey)
	q.Set("query", query)
	q.Set("pageSize", strconv.Itoa(c.cfg.PageSize))
	q.Set("dataType", strings.Join(dataTypes, ","))
	if requireAll {
		q.Set("requireAllWords", "true")
	}
	body, err := c.get(ctx, "search", c.search, q)
	if err != nil {
		return nil, err
	}
	foods, err := DecodeSearch(body)
	if err != nil {
		return nil, err
	}
	now := c.clock.Now()
	for i := range foods {
		foods[i].Query, foods[i].FetchedAt = query, now
	}
	return foods, nil
}

// Food returns one food by its FDC id. A food unknown to FoodData Central
// gives a *Error with status 404, which also matches nutrition.ErrNotFound. The
// nutrition.Result's Query is empty: set it before saving the answer.
func (c *Client) Food(ctx context.Context, fdcID int64) (nutrition.Result, error) {
	if fdcID <= 0 {
		return nutrition.Result{}, invalid("fdcID", fdcID, "want a positive FoodData Central id")
	}
	q := url.Values{}
	q.Set("api_key", c.cfg.APIKey)
	body, err := c.get(ctx, "food", c.food+strconv.FormatInt(fdcID, 10), q)
	if err != nil {
		return nutrition.Result{}, err
	}
	r, err := DecodeFood(body)
	if err != nil {
		return nutrition.Result{}, err
	}
	r.FetchedAt = c.clock.Now()
	return r, nil
}

// get sends one GET request with the client's timeout and returns the body
// of a 2xx response. Errors never hold the URL's query, where the key is.
func (c *Client) get(ctx context.Context, op, endpoint string, q url.Values) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("usda: %s: %s", op, c.redact(err.Error()))
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.httpc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("usda: %s: %w", op, c.redactURLError(err, endpoint))
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.statusError(op, resp)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("usda: %s: read response: %w", op, c.redactURLError(err, endpoint))
	}
	if int64(len(body)) > c.cfg.MaxBodyBytes {
		return nil, fmt.Errorf("usda: %s: response larger than %d bytes", op, c.cfg.MaxBodyBytes)
	}
	return body, nil
}

// redactURLError replaces the URL inside a *url.Error, which holds the API
// key, by the endpoint without query, keeping the error's type (and so
// what package retry can tell from it: timeouts, connection errors).
func (c *Client) redactURLError(err error, endpoint string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: endpoint, Err: redactedError{ue.Err, c}}
	}
	return redactedError{err, c}
}

// redactedError is an error whose text has the API key and every URL query
// removed; it unwraps to the original, for errors.Is and errors.As.
type redactedError struct {
	err error
	c   *Client
}

func (e redactedError) Error() string { return e.c.redact(e.err.Error()) }
func (e redactedError) Unwrap() error { return e.err }

// Timeout reports whether the original error is a timeout, for net.Error
// checks (a *url.Error asks its Err).
func (e redactedError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.err, &t) && t.Timeout()
}

// redact removes URL queries and the API key from a text.
func (c *Client) redact(s string) string {
	s = redact.ErrorText(s)
	if k := c.cfg.APIKey; k != "" {
		s = strings.ReplaceAll(s, k, "REDACTED")
		if esc := url.QueryEscape(k); esc != k {
			s = strings.ReplaceAll(s, esc, "REDACTED")
		}
	}
	return s
}

// Error is a FoodData Central response outside 2xx. It carries the
// status and USDA's error code for package retry: StatusCode and
// RetryAfter make 429 (OVER_RATE_LIMIT) retryable, after the server's
// Retry-After when it sends one, and 403 (API_KEY_INVALID) final.
type Error struct {
	// Op is "search" or "food".
	Op string
	// Status is the HTTP status code, e.g. 429.
	Status int
	// Code is the error code of the body, e.g. "OVER_RATE_LIMIT",
	// "API_KEY_INVALID" or "API_KEY_MISSING"; empty when there is none.
	Code string
	// Message is the body's message, shortened, without URL queries or the
	// API key; empty when there is none.
	Message string
	wait    time.Duration
	hasWait bool
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("usda: %s: status %d", e.Op, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// StatusCode returns the HTTP status, for retry.DefaultRetryable (a
// retry.StatusCoder) and chain.Labels.
func (e *Error) StatusCode() int { return e.Status }

// RetryAfter returns the server's wait hint (Retry-After), if it gave one.
func (e *Error) RetryAfter() (time.Duration, bool) { return e.wait, e.hasWait }

// Is makes a 404 for one food match nutrition.ErrNotFound: the id is unknown, which
// is an answer, not an outage.
func (e *Error) Is(target error) bool {
	return target == nutrition.ErrNotFound && e.Status == http.StatusNotFound && e.Op == "food"
}

// statusError builds the *Error of a response outside 2xx, reading at
// most maxErrorBody bytes of its body for the error code.
func (c *Client) statusError(op string, resp *http.Response) error {
	e := &Error{Op: op, Status: resp.StatusCode}
	e.wait, e.hasWait = retry.RetryAfterFromHeader(resp.Header)
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	code, msg := decodeUSDAErrorBody(body)
	e.Code = cleanText(code, 64)
	e.Message = cleanText(c.redact(msg), 200)
	return e
}

// decodeUSDAErrorBody reads the error code and message of an error body:
// api.data.gov's {"error":{"code":…,"message":…}} or FoodData Central's
// own {"error":"Bad Request","message":…}.
func decodeUSDAErrorBody(body []byte) (code, msg string) {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &v) != nil {
		return "", ""
	}
	var obj struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	var str string
	switch {
	case json.Unmarshal(v.Error, &obj) == nil && (obj.Code != "" || obj.Message != ""):
		code, msg = obj.Code, obj.Message
	case json.Unmarshal(v.Error, &str) == nil:
		msg = str
	}
	if v.Message != "" {
		if msg != "" {
			msg += ": "
		}
		msg += v.Message
	}
	return code, msg
}

// cleanText keeps the printable runes of s, spaces for the rest, cut to
// limit bytes.
func cleanText(s string, limit int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, strings.TrimSpace(s))
	return text.Cut(s, limit)
}
