package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/healthagent/resilience/pkg/clock"
	"github.com/redis/go-redis/v9"
	"golang.org/x/term"
)

func main() {
	// go-redis logs every failed dial on its own global logger; while Redis
	// is down that is a line per connection attempt. The breakers' store
	// says once that Redis is unreachable, so those lines go to -v only.
	redis.SetLogger(redisLog{})
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// syncWriter serialises writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// redisLog passes go-redis' messages to slog at debug level.
type redisLog struct{}

func (redisLog) Printf(ctx context.Context, format string, v ...any) {
	slog.Default().DebugContext(ctx, fmt.Sprintf(format, v...))
}

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1 // a run failed, or -check found a criterion missed
	exitUsage  = 2 // a bad command line
)

// run is the whole tool; it returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if raw := os.Getenv(replicaEnv); raw != "" {
		return replicaProcess(ctx, raw, stdin, stdout, stderr)
	}
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		fmt.Fprintln(stderr, "run loadtest -h for the flags")
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	level := slog.LevelWarn
	if cfg.Verbose {
		level = slog.LevelInfo
	}
	progress := false
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		progress = true
	}
	stderr = &syncWriter{w: stderr} // the logger, the progress line and replica processes share it
	e := &env{
		cfg:      cfg,
		clock:    clock.Real(),
		stderr:   stderr,
		logger:   slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
		progress: progress,
	}
	runs, err := runAll(ctx, e)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailed
	}
	var cs []checkResult
	if cfg.Check {
		cs = checks(&cfg, runs)
	}
	if err := writeTable(stdout, &cfg, runs, cs); err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return exitFailed
	}
	if cfg.JSONFile != "" {
		if err := writeJSON(cfg.JSONFile, buildReport(&cfg, runs, cs)); err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailed
		}
	}
	if cfg.PlotFile != "" {
		if err := writePlot(cfg.PlotFile, &cfg, runs); err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailed
		}
	}
	for _, c := range cs {
		if !c.OK {
			fmt.Fprintln(stderr, "loadtest: -check: a criterion was missed")
			return exitFailed
		}
	}
	return exitOK
}
