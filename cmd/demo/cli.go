package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/fakeupstream"
	"github.com/healthagent/resilience/pkg/dbreaker"
)

// runUpstream serves the fake upstream alone (for docker-compose).
func runUpstream(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo upstream", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", ":8090", "listen address")
	var cfg fakeupstream.Config
	cfg.RegisterFlags(fs, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "demo upstream: unexpected arguments %q\n", fs.Args())
		return 2
	}
	srv, err := fakeupstream.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	fmt.Fprintf(stdout, "fake upstream listening on %s (POST /admin/faults to inject faults)\n", *addr)
	if err := srv.ListenAndServe(ctx, *addr); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// runBreakers administers the shared breakers in Redis: what it changes,
// every replica obeys.
func runBreakers(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "list" && len(args) != 2 || args[0] == "list" && len(args) != 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		fmt.Fprintf(stderr, "demo breakers: REDIS_URL=%q: %v\n", redactURL(cfg.RedisURL), err)
		return 2
	}
	opts.ContextTimeoutEnabled = true
	if err := redisReachable(ctx, opts); err != nil {
		fmt.Fprintf(stderr, "demo breakers: Redis at %s is not reachable (%v): breakers are shared through Redis only\n",
			redactURL(cfg.RedisURL), dbreaker.RedactErrorText(err.Error()))
		return 1
	}
	client := redis.NewClient(opts)
	defer client.Close()
	store, err := dbreaker.NewRedisStore(client, dbreaker.WithStoreLogger(slog.New(slog.DiscardHandler)), dbreaker.WithKeyPrefix(cfg.KeyPrefix))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer store.Close(context.Background())
	open := func(name string) (*dbreaker.Breaker, error) {
		return dbreaker.New(name, store, dbreaker.Config{StoreTimeout: 2 * time.Second}, dbreaker.WithLogger(slog.New(slog.DiscardHandler)))
	}
	if args[0] == "list" {
		names, err := breakerNames(ctx, client, cfg.KeyPrefix)
		if err != nil {
			fmt.Fprintln(stderr, "demo breakers:", err)
			return 1
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSTATE\tGEN\tFAILURES\tTRIPS\tOPEN FOR\tLAST ERROR")
		for _, name := range names {
			b, err := open(name)
			if err != nil {
				fmt.Fprintln(stderr, "demo breakers:", err)
				return 1
			}
			s, err := b.State(ctx)
			if err != nil {
				fmt.Fprintln(stderr, "demo breakers:", err)
				return 1
			}
			openFor := "-"
			if ra := s.RetryAfter(); ra > 0 {
				openFor = ra.Round(time.Second).String()
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\n", name, s.State, s.Generation, s.Failures, s.Trips, openFor, s.LastError)
		}
		tw.Flush()
		return 0
	}
	action, name := args[0], args[1]
	b, err := open(name)
	if err != nil {
		fmt.Fprintln(stderr, "demo breakers:", err)
		return 2
	}
	do := map[string]func(context.Context) (dbreaker.Snapshot, error){
		"open": b.ForceOpen, "close": b.ForceClosed, "disable": b.Disable, "reset": b.Reset,
	}[action]
	if do == nil {
		fmt.Fprintf(stderr, "demo breakers: unknown action %q: want list, open, close, disable or reset\n", action)
		return 2
	}
	s, err := do(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "demo breakers:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %s (generation %d); every replica obeys\n", name, s.State, s.Generation)
	return 0
}

// breakerNames lists the service's upstreams and every breaker found in
// Redis under the key prefix.
func breakerNames(ctx context.Context, client *redis.Client, prefix string) ([]string, error) {
	names := slices.Clone(upstreams)
	iter := client.Scan(ctx, 0, prefix+":{*}", 200).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		open, close := strings.IndexByte(key, '{'), strings.IndexByte(key, '}')
		if open < 0 || close < open || close != len(key)-1 {
			continue // :window and :probes keys
		}
		if name := key[open+1 : close]; !slices.Contains(names, name) && dbreaker.ValidateName(name) == nil {
			names = append(names, name)
		}
	}
	return names, iter.Err()
}

// runHealth GETs a URL and exits 0 on 200: a healthcheck for images that
// have no curl.
func runHealth(ctx context.Context, args []string, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil)
	if err != nil {
		fmt.Fprintln(stderr, "demo health:", err)
		return 2
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "demo health:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(stderr, "demo health:", resp.Status)
		return 1
	}
	return 0
}
