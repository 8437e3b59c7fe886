// Package usda reads nutrition facts from USDA FoodData Central: a search
// by name, and one food by FDC id.
//
// Usage:
//
//	client, _ := usda.New(usda.Config{APIKey: key}, usda.WithHTTPClient(hc))
//	r, err := client.Search(ctx, "chicken breast") // a nutrition.Result
//	if errors.Is(err, nutrition.ErrNotFound) { /* try the next source */ }
//
// A Client has a timeout of its own (5 s by default). It searches the
// generic data types (Foundation, SR Legacy, Survey (FNDDS)) unless asked
// for branded products, prefers the form a name means (sr24.AsEaten: cooked
// rice for "rice"), reads Foundation foods' carbohydrate by summation
// (205.2) and Atwater energies, and leaves a nutrient USDA does not give
// unknown, never 0. Its methods are plain functions of (ctx, query), for a
// Guard (package chain) to wrap in retry, breaker and timeout, and
// SearchFor is a step of the nutrition lookup chain.
//
// Errors carry the HTTP status and USDA's error code (*Error) and work with
// package retry's classifier: 429 OVER_RATE_LIMIT is retried, after the
// server's Retry-After, 403 API_KEY_INVALID is not. A body that is not what
// was asked for is a *DecodeError. The API key never appears in an error.
// Invalid configuration is a *config.Error.
package usda
