// Package fakeupstream is one HTTP server that imitates the four services
// the health-agent bot calls, closely enough that their real clients cannot
// tell, and that fails on command.
//
// Usage:
//
//	srv, err := fakeupstream.New(fakeupstream.Config{Seed: 1})
//	go srv.ListenAndServe(ctx, ":8089") // or http.Handler: httptest.NewServer(srv)
//	err = srv.SetFault(fakeupstream.OpenAI, fakeupstream.Fault{ErrorRate: 0.5, ErrorStatus: 429})
//	stats := srv.Stats() // requests, answers and faults by upstream
//
// # Endpoints
//
//	POST /v1/chat/completions       OpenAI Chat Completions (text and image_url parts)
//	POST /v1/messages               Anthropic Messages (text and image blocks; needs anthropic-version)
//	GET  /fdc/v1/foods/search       USDA FoodData Central search (query, pageSize, pageNumber, dataType)
//	GET  /fdc/v1/food/{fdcId}       USDA FoodData Central food (format, nutrients)
//	GET  /web/nutrition?q=…         a web nutrition search: {"results":[{"name","kcal_per_100g",…}]}
//	GET  /healthz                   {"status":"ok"}
//	GET, POST, DELETE /admin/faults the faults in effect; change them; heal everything
//	GET, DELETE /admin/stats        the counters by upstream; zero them
//
// EndpointsAt gives the base URLs for the clients: the OpenAI SDK wants
// root+"/v1/", the Anthropic SDK the root itself.
//
// # Answers
//
// Everything comes from the embedded USDA SR24 data (package sr24) and
// depends only on the request, so replicas and runs agree. FoodData
// Central's fdcId is a food's NDB number as an integer (roasted chicken
// breast, NDB 05064, is fdcId 5064, 165 kcal per 100 g), with the nutrients
// 208 (energy, kcal), 203 (protein), 204 (fat), 205 (carbohydrate), 291
// (fiber) and 307 (sodium, mg). The web search rounds the same figures as
// a US nutrition label does.
//
// FoodData Central's search honours query, pageSize, pageNumber, dataType
// (only "SR Legacy" holds foods here) and requireAllWords, and uses its real
// field types: an integer ndbNumber, nutrient numbers as strings.
//
// The AI upstreams read the last user message with the bot's own meal
// parser (package meal), so the fake model and the bot's fallback agree on
// every weight. With an image, or when the request asks for structured
// output (OpenAI's response_format of type json_schema or json_object,
// Anthropic's output_config.format of type json_schema), the answer is a
// meal as JSON, {"items":[{"name":"eggs","grams":100}]}: the foods the
// message's text names, with their weights (none for a text naming no
// food), or, for an image whose text names none, one to three everyday
// foods chosen by a hash of the image bytes (or of an image URL).
// Otherwise the answer is a short text giving the nutrition of the foods
// the text mentions ("an egg" is one large egg, 50 g), or saying how to
// ask. Keep food names out of the bot's own instructions in that message,
// or they count as the caption.

// # Faults
//
// Each upstream has a Fault: added latency with jitter, and shares of
// requests that get an error status with the upstream's real error body
// (with Retry-After if set), hang until the client gives up, have their
// connection reset, or get a malformed or truncated 200; or a full outage
// (every request an error, or every connection reset). The fate of each
// request comes from the seed, the upstream and the request's number
// since the fault or seed was last set: the same seed gives the same
// sequence of faults in every run, however requests interleave. POST
// /admin/faults takes
//
//	{"seed": 42, "openai": {"error_rate": 0.5, "error_status": 429, "retry_after": "2s"},
//	 "anthropic": {"outage": "error", "error_status": 529},
//	 "usda": {"latency": "200ms", "jitter": "100ms", "hang_rate": 0.1}}
//
// (see FaultUpdate and Fault for every field) and answers 400 naming the
// bad field. The admin API has no authentication: expose the server to
// tests and demos only.
package fakeupstream
