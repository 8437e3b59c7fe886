// Command demo is the health-agent service, one replica per process: meal
// photos and texts in, nutrition estimates out, with every upstream behind a
// shared circuit breaker, retries and fallback chains.
//
//	go run ./cmd/demo                       # the service (PORT 8080, METRICS_PORT 8000)
//	go run ./cmd/demo upstream -addr :8090  # the fake upstream alone, for docker-compose
//	go run ./cmd/demo breakers list         # shared breaker state; also open|close|disable|reset|delete NAME
//	go run ./cmd/demo eval                  # the meal parser's accuracy on the caption set
//
// Configuration comes from the environment (see README.md and .env.example).
// UPSTREAMS=auto (the default) serves simulated answers from an in-process
// fake upstream when no API key is configured, and says so in every answer;
// UPSTREAMS=real refuses to start without the keys. Breakers share their
// state through Redis; a replica that starts while Redis is down decides
// locally until Redis answers. With no PostgreSQL it serves nutrition from
// the embedded USDA data.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code (2 for bad
// usage or configuration).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "upstream":
			return runUpstream(ctx, args[1:], stdout, stderr)
		case "breakers":
			return runBreakers(ctx, args[1:], getenv, stdout, stderr)
		case "health":
			return runHealth(ctx, args[1:], stderr)
		case "eval":
			return runEval(ctx, args[1:], getenv, stdout, stderr)
		case "serve":
			args = args[1:]
		case "-h", "-help", "--help", "help":
			fmt.Fprint(stdout, usage)
			return 0
		default:
			fmt.Fprintf(stderr, "demo: unknown command %q\n%s", args[0], usage)
			return 2
		}
	}
	if len(args) > 0 {
		fmt.Fprintf(stderr, "demo: serve takes no arguments (configuration is in the environment), got %q\n", args)
		return 2
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if err := serve(ctx, cfg, log, nil); err != nil {
		log.Error("demo stopped", "error", err)
		return 1
	}
	return 0
}

const usage = `usage:
  demo [serve]                         run one replica of the service
  demo upstream [flags]                run the fake upstream alone (see -h)
  demo breakers list                   show every breaker's shared state
  demo breakers [--create] open|close|disable|reset NAME
                                       force a breaker open or closed, make it
                                       pass-through, or reset it, on every replica;
                                       a breaker neither the service nor Redis
                                       knows needs --create
  demo breakers delete NAME            remove a breaker's keys from Redis (not one
                                       of the service's own: reset those)
  demo health URL                      exit 0 when URL answers 200 (container healthchecks)
  demo eval [-captions FILE]           read a caption set through the meal API and
                                       print the share within 25 % of its reference
`

// serve runs a replica until ctx ends, then shuts down gracefully: requests
// in flight finish, queued breaker reports are flushed. ready, if not nil,
// receives the API and metrics addresses once both listen.
func serve(ctx context.Context, cfg config, log *slog.Logger, ready chan<- [2]string) error {
	s, err := newService(ctx, cfg, log)
	if err != nil {
		return err
	}
	api := &http.Server{Handler: s.apiHandler(), ReadHeaderTimeout: 10 * time.Second}
	met := &http.Server{Handler: s.metricsHandler(), ReadHeaderTimeout: 10 * time.Second}
	if s.console != nil { // its live streams end first, or Shutdown would wait for them
		met.RegisterOnShutdown(func() { _ = s.console.Close(context.Background()) })
	}
	apiLn, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		s.close(context.Background())
		return fmt.Errorf("demo: PORT: %w", err)
	}
	metLn, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		apiLn.Close()
		s.close(context.Background())
		return fmt.Errorf("demo: METRICS_PORT: %w", err)
	}
	errc := make(chan error, 2)
	go func() { errc <- api.Serve(apiLn) }()
	go func() { errc <- met.Serve(metLn) }()
	log.Info("health-agent replica ready", "api", apiLn.Addr().String(), "metrics", metLn.Addr().String())
	if ready != nil {
		ready <- [2]string{apiLn.Addr().String(), metLn.Addr().String()}
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	errs := []error{err}
	errs = append(errs, api.Shutdown(shutdownCtx), met.Shutdown(shutdownCtx), s.close(shutdownCtx))
	log.Info("health-agent replica stopped")
	if err := errors.Join(errs...); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
