package console_test

import (
	"context"
	"net/http"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/dbreaker/console"
)

// A service mounts the console of its breakers' fleet at /console/. Its
// replicas keep heartbeats (WithPresence), so the console lists them.
func ExampleNew() {
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	store, err := dbreaker.NewRedisStore(client, dbreaker.WithPresence("api-1"))
	if err != nil {
		panic(err)
	}
	defer store.Close(ctx)
	c, err := console.New(store, console.Config{Token: os.Getenv("CONSOLE_TOKEN")}) // empty: read-only
	if err != nil {
		panic(err)
	}
	defer c.Close(ctx) // ends the live streams, before the server's Shutdown
	mux := http.NewServeMux()
	mux.Handle("/console/", http.StripPrefix("/console", c))
	_ = http.ListenAndServe("127.0.0.1:8000", mux)
}
