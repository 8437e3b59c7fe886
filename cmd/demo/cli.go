package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/user"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/fakeupstream"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/redact"
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
// every replica obeys. A breaker it does not know (neither one of the
// service's upstreams nor in Redis) needs --create, so that a typo does
// not make a new breaker; delete removes a breaker's keys.
func runBreakers(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo breakers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	create := fs.Bool("create", false, "act on a breaker no replica and no key knows yet")
	by := fs.String("by", "", "who acts, recorded in the breaker's log (default: $USER, else the OS user)")
	var pos []string
	for rest := args; ; { // flags may come before or after the action and name
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		if rest = fs.Args(); len(rest) == 0 {
			break
		}
		pos, rest = append(pos, rest[0]), rest[1:]
	}
	if len(pos) == 0 || pos[0] == "list" && len(pos) != 1 || pos[0] != "list" && len(pos) != 2 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	action := pos[0]
	overrides := map[string]func(*dbreaker.Breaker, context.Context) (dbreaker.Snapshot, error){
		"open": (*dbreaker.Breaker).ForceOpen, "close": (*dbreaker.Breaker).ForceClosed,
		"disable": (*dbreaker.Breaker).Disable, "reset": (*dbreaker.Breaker).Reset,
	}
	if action != "list" && action != "delete" && overrides[action] == nil {
		fmt.Fprintf(stderr, "demo breakers: unknown action %q: want list, open, close, disable, reset or delete\n", action)
		return 2
	}
	redisURL, prefix, err := loadRedisSettings(getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	opts, err := redisOptions(redisURL)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if err := redisReachable(ctx, opts); err != nil {
		fmt.Fprintf(stderr, "demo breakers: Redis at %s is not reachable (%v): breakers are shared through Redis only\n",
			redactURL(redisURL), redact.ErrorText(err.Error()))
		return 1
	}
	client := redis.NewClient(opts)
	defer client.Close()
	store, err := dbreaker.NewRedisStore(client, dbreaker.WithLogger(slog.New(slog.DiscardHandler)), dbreaker.WithKeyPrefix(prefix))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer store.Close(context.Background())
	if action == "list" {
		return listBreakers(ctx, store, stdout, stderr)
	}
	name := pos[1]
	if err := dbreaker.ValidateName(name); err != nil {
		fmt.Fprintln(stderr, "demo breakers:", err)
		return 2
	}
	keys := breakerKeys(store, name)
	stored, err := client.Exists(ctx, keys...).Result()
	if err != nil {
		fmt.Fprintln(stderr, "demo breakers:", err)
		return 1
	}
	service := slices.Contains(upstreamNames(), name)
	if action == "delete" {
		switch {
		case service:
			fmt.Fprintf(stderr, "demo breakers: %s is one of the service's breakers: reset it instead (deleting its keys would only lose its state)\n", name)
			return 2
		case stored == 0:
			fmt.Fprintf(stderr, "demo breakers: no breaker %s: no key of it in Redis under %q\n", name, prefix)
			return 1
		}
		n, err := client.Del(ctx, keys...).Result()
		if err != nil {
			fmt.Fprintln(stderr, "demo breakers:", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: deleted (%d keys)\n", name, n)
		return 0
	}
	if !service && stored == 0 && !*create {
		fmt.Fprintf(stderr, "demo breakers: no breaker %s: it is not one of the service's (%s) and has no state in Redis; "+
			"check the name, or add --create to make it\n", name, strings.Join(upstreamNames(), ", "))
		return 2
	}
	octx, err := withOperator(ctx, *by, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "demo breakers:", err)
		return 2
	}
	b, err := openBreaker(store, name)
	if err != nil {
		fmt.Fprintln(stderr, "demo breakers:", err)
		return 2
	}
	snap, err := overrides[action](b, octx)
	if err != nil {
		fmt.Fprintln(stderr, "demo breakers:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %s (generation %d); every replica obeys\n", name, snap.State, snap.Generation)
	return 0
}

// withOperator names who acts in the context of an override: --by, else
// $USER, else the OS user.
func withOperator(ctx context.Context, by string, getenv func(string) string) (context.Context, error) {
	if by == "" {
		by = getenv("USER")
	}
	if by == "" {
		if u, err := user.Current(); err == nil {
			by = u.Username
		}
	}
	if by == "" {
		return nil, errors.New("who acts is unknown: give --by NAME")
	}
	return dbreaker.ContextWithOperator(ctx, by)
}

// openBreaker opens a breaker on the store for administration.
func openBreaker(store *dbreaker.RedisStore, name string) (*dbreaker.Breaker, error) {
	return dbreaker.New(name, store, dbreaker.Config{StoreTimeout: 2 * time.Second}, dbreaker.WithLogger(slog.New(slog.DiscardHandler)))
}

// breakerKeys lists every Redis key of a breaker.
func breakerKeys(store *dbreaker.RedisStore, name string) []string {
	state, window, probes := store.Keys(name)
	return []string{state, window, probes, store.LogKey(name)}
}

// listBreakers prints the shared state of every breaker known.
func listBreakers(ctx context.Context, store *dbreaker.RedisStore, stdout, stderr io.Writer) int {
	names, err := breakerNames(ctx, store)
	if err != nil {
		fmt.Fprintln(stderr, "demo breakers:", err)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tGEN\tFAILURES\tTRIPS\tOPEN FOR\tLAST ERROR")
	for _, name := range names {
		b, err := openBreaker(store, name)
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

// breakerNames lists the service's upstreams and every breaker found in
// Redis under the key prefix.
func breakerNames(ctx context.Context, store *dbreaker.RedisStore) ([]string, error) {
	found, err := store.BreakerNames(ctx)
	if err != nil {
		return nil, err
	}
	names := upstreamNames()
	for _, name := range found {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names, nil
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
