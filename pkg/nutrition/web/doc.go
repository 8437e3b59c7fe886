// Package web reads a web nutrition search: the last source of the
// nutrition lookup chain that knows foods, after USDA and the caches.
//
// Usage:
//
//	search, _ := web.New(web.Config{BaseURL: "https://search.example/nutrition"}, web.WithHTTPClient(hc))
//	r, err := search.Search(ctx, "banana") // a nutrition.Result of nutrition.SourceWeb
//	if errors.Is(err, nutrition.ErrNotFound) { /* try the next source */ }
//
// Search is a plain function of (ctx, name), for a Guard (package chain) to
// wrap in retry, breaker and timeout. An answer outside 2xx is a
// *retry.HTTPError, so package retry knows what to retry.
package web
