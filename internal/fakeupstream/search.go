package fakeupstream

import (
	"sync"

	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

const (
	// searchLimit is the most foods one search finds (FoodData Central's
	// largest page).
	searchLimit = 200
	// searchCacheSize is the number of distinct queries remembered; the
	// cache starts afresh when it is full.
	searchCacheSize = 1024
)

// searchCache remembers the results of sr24 searches, which take a few
// hundred microseconds each, so that a load test repeating a handful of
// queries costs little.
type searchCache struct {
	data    *sr24.Dataset
	mu      sync.Mutex
	results map[string][]sr24.Match
}

func newSearchCache(data *sr24.Dataset) *searchCache {
	return &searchCache{data: data, results: make(map[string][]sr24.Match)}
}

// search returns up to searchLimit foods matching query, best first. The
// slice is shared: callers must not modify it.
func (c *searchCache) search(query string) []sr24.Match {
	c.mu.Lock()
	found, ok := c.results[query]
	c.mu.Unlock()
	if ok {
		return found
	}
	found = c.data.Search(query, searchLimit)
	c.mu.Lock()
	if len(c.results) >= searchCacheSize {
		clear(c.results)
	}
	c.results[query] = found
	c.mu.Unlock()
	return found
}
