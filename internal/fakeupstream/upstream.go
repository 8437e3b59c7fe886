package fakeupstream

import (
	"fmt"
	"strings"
)

// Upstream names one of the four services the server imitates.
type Upstream string

// The upstreams, by the names used in the admin JSON, the stats and the
// flags.
const (
	OpenAI    Upstream = "openai"    // POST /v1/chat/completions
	Anthropic Upstream = "anthropic" // POST /v1/messages
	USDA      Upstream = "usda"      // GET /fdc/v1/foods/search, GET /fdc/v1/food/{fdcId}
	Web       Upstream = "web"       // GET /web/nutrition
)

// upstreamCount is the number of upstreams; index gives each its slot.
const upstreamCount = 4

// Upstreams returns every upstream, in a fixed order.
func Upstreams() []Upstream { return []Upstream{OpenAI, Anthropic, USDA, Web} }

// index returns the upstream's slot in the server's arrays.
func (u Upstream) index() (int, bool) {
	switch u {
	case OpenAI:
		return 0, true
	case Anthropic:
		return 1, true
	case USDA:
		return 2, true
	case Web:
		return 3, true
	}
	return 0, false
}

// ParseUpstream returns the upstream named s ("openai", "anthropic",
// "usda" or "web").
func ParseUpstream(s string) (Upstream, error) {
	u := Upstream(s)
	if _, ok := u.index(); !ok {
		return "", fmt.Errorf("fakeupstream: unknown upstream %q (want openai, anthropic, usda or web)", s)
	}
	return u, nil
}

// DefaultErrorStatus is the status an injected error has when
// Fault.ErrorStatus is 0: the upstream's usual answer when overloaded
// (503, and 529 for Anthropic).
func (u Upstream) DefaultErrorStatus() int {
	if u == Anthropic {
		return 529
	}
	return 503
}

// Endpoints are the base URLs a client of each upstream is given when the
// server listens at a root URL such as "http://127.0.0.1:8089".
type Endpoints struct {
	// OpenAI is the base URL for the OpenAI SDK's option.WithBaseURL; it
	// ends in "/v1/".
	OpenAI string
	// Anthropic is the base URL for the Anthropic SDK's
	// option.WithBaseURL: the root, ending in "/".
	Anthropic string
	// USDA is the FoodData Central API root, ending in "/fdc/v1"; append
	// "/foods/search" or "/food/{fdcId}".
	USDA string
	// Web is the web nutrition search URL; add "?q=…".
	Web string
}

// EndpointsAt returns the endpoints of a server whose root URL is root.
func EndpointsAt(root string) Endpoints {
	root = strings.TrimRight(root, "/")
	return Endpoints{
		OpenAI:    root + "/v1/",
		Anthropic: root + "/",
		USDA:      root + "/fdc/v1",
		Web:       root + "/web/nutrition",
	}
}
