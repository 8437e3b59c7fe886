package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/healthagent/resilience/pkg/clock"
)

// replicaEnv, when set, makes the tool a replica process: its value is the
// JSON of a procSpec.
const replicaEnv = "LOADTEST_REPLICA"

// Control lines a parent sends on a replica process's standard input.
const (
	ctlRelease = "release" // go on with the held probe
	ctlStop    = "stop"    // stop the users now
)

// procSpec is a replica process's assignment.
type procSpec struct {
	Replica  replicaSpec
	Start    int64 // the run's start, Unix nanoseconds
	VUs      []int
	Requests int64 // this process's share of -requests (0: none)
	// Cache holds the fallback's answers at the start of the run.
	Cache map[string]string
}

// procFleet runs each replica as a process of this executable. Each one
// streams its events as JSON lines on its standard output; when it holds a
// probe after recovery it asks, and the parent may kill it (SIGKILL).
type procFleet struct {
	env   *env
	spec  replicaSpec
	start time.Time
	log   *eventLog
	coord *crashCoordinator
	cache *answerCache
}

type child struct {
	idx   int
	cmd   *exec.Cmd
	mu    sync.Mutex // guards stdin and dead
	stdin io.WriteCloser
	dead  bool
}

func (c *child) send(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dead {
		_, _ = io.WriteString(c.stdin, line+"\n")
	}
}

func (f *procFleet) run(ctx context.Context, stop <-chan struct{}) error {
	cfg := &f.env.cfg
	self := f.env.self
	if self == "" {
		var err error
		if self, err = os.Executable(); err != nil {
			return fmt.Errorf("loadtest: -procs: finding this executable: %w", err)
		}
	}
	children := make([]*child, cfg.Replicas)
	var readers sync.WaitGroup
	for i := range cfg.Replicas {
		spec := procSpec{Replica: f.spec, Start: f.start.UnixNano(), Cache: f.cache.all()}
		spec.Replica.Index = i
		for vu := i; vu < cfg.VUs; vu += cfg.Replicas {
			spec.VUs = append(spec.VUs, vu)
		}
		if cfg.Requests > 0 {
			spec.Requests = cfg.Requests / int64(cfg.Replicas)
			if int64(i) < cfg.Requests%int64(cfg.Replicas) {
				spec.Requests++
			}
		}
		raw, err := json.Marshal(spec)
		if err != nil {
			return fmt.Errorf("loadtest: -procs: %w", err)
		}
		cmd := exec.Command(self)
		cmd.Env = append(os.Environ(), replicaEnv+"="+string(raw))
		stderr, err := cmd.StderrPipe()
		if err != nil {
			return fmt.Errorf("loadtest: -procs: %w", err)
		}
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return fmt.Errorf("loadtest: -procs: %w", err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return fmt.Errorf("loadtest: -procs: %w", err)
		}
		if err := cmd.Start(); err != nil {
			killAll(children)
			return fmt.Errorf("loadtest: -procs: starting replica %d: %w", i, err)
		}
		c := &child{idx: i, cmd: cmd, stdin: stdin}
		children[i] = c
		readers.Go(func() { f.read(c, stdout) })
		readers.Go(func() { forwardLines(f.env.stderr, stderr) })
	}

	// Children stop by themselves at the end of the run; tell them sooner
	// when the run is cut short, and kill those that do not stop.
	done := make(chan struct{})
	go func() {
		readers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-stop:
		for _, c := range children {
			c.send(ctlStop)
		}
		t := f.env.clock.NewTimer(cfg.RequestTimeout + 5*time.Second)
		select {
		case <-done:
		case <-t.C():
			killAll(children)
			<-done
		}
		t.Stop()
	}
	var errs []error
	for _, c := range children {
		err := c.cmd.Wait()
		c.mu.Lock()
		killed := c.dead
		c.mu.Unlock()
		if err != nil && !killed {
			errs = append(errs, fmt.Errorf("loadtest: replica process %d: %w", c.idx, err))
		}
	}
	return errors.Join(errs...)
}

// read takes a child's events until its output ends.
func (f *procFleet) read(c *child, stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		e, err := decodeEvent(sc.Bytes())
		if err != nil {
			f.env.logger.Error("loadtest: replica process", "replica", c.idx, "error", err)
			continue
		}
		e.Replica = c.idx
		if e.Kind != kindProbeHeld {
			f.log.add(e)
			continue
		}
		if !f.coord.claim() {
			c.send(ctlRelease)
			continue
		}
		c.mu.Lock()
		c.dead = true
		_ = c.cmd.Process.Kill()
		c.mu.Unlock()
		f.log.add(event{Kind: kindCrash, Replica: c.idx, At: f.env.clock.Now().Sub(f.start)})
	}
	_, _ = io.Copy(io.Discard, stdout)
}

// forwardLines copies a child's standard error to w line by line, so that
// the lines of several children never mix.
func forwardLines(w io.Writer, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		_, _ = fmt.Fprintf(w, "%s\n", sc.Bytes())
	}
	_, _ = io.Copy(io.Discard, r)
}

func killAll(children []*child) {
	for _, c := range children {
		if c != nil {
			c.mu.Lock()
			c.dead = true
			_ = c.cmd.Process.Kill()
			c.mu.Unlock()
		}
	}
}

// replicaProcess is the tool run as one replica: it reads its assignment
// from the environment, runs its users until the end of the run, streams
// its events on out and obeys control lines on in. It returns the exit
// status.
func replicaProcess(ctx context.Context, raw string, in io.Reader, out, stderr io.Writer) int {
	var spec procSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		fmt.Fprintf(stderr, "loadtest: %s: %v\n", replicaEnv, err)
		return 2
	}
	cfg := &spec.Replica.Config
	if err := cfg.validate(); err != nil {
		fmt.Fprintf(stderr, "loadtest: %s: %v\n", replicaEnv, err)
		return 2
	}
	clock := clock.Real()
	start := time.Unix(0, spec.Start)
	level := slog.LevelWarn
	if cfg.Verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})).With("replica", spec.Replica.Index)
	sink := newLineSink(out)

	stop := make(chan struct{})
	var stopOnce sync.Once
	closeStop := func() { stopOnce.Do(func() { close(stop) }) }
	release := make(chan struct{}, 1)
	go func() {
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			switch strings.TrimSpace(sc.Text()) {
			case ctlRelease:
				select {
				case release <- struct{}{}:
				default:
				}
			case ctlStop:
				closeStop()
			}
		}
		closeStop() // the parent is gone
	}()

	faultEnd := cfg.FaultAt + cfg.FaultFor
	var askMu sync.Mutex
	crash := func(r *replica, at time.Time) bool {
		if cfg.Scenario != scenarioReplicaCrash || at.Sub(start) < faultEnd {
			return false
		}
		askMu.Lock()
		defer askMu.Unlock()
		sink.add(event{Kind: kindProbeHeld, Replica: r.idx, At: at.Sub(start)})
		select { // the parent answers, or kills this process
		case <-release:
		case <-stop:
		}
		return false
	}
	cache := newAnswerCache()
	for q, a := range spec.Cache {
		cache.put(q, a)
	}
	r, err := newReplica(spec.Replica, clock, start, sink, cache, crash, logger)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	var bg sync.WaitGroup
	bg.Go(func() { at(clock, start, cfg.Duration, stop, func(time.Time) { closeStop() }) })
	bg.Go(func() { every(clock, sampleEvery, stop, r.sample) })
	l := &load{clock: clock, think: cfg.Think, seed: cfg.Seed, limit: spec.Requests,
		pick: func(int) target { return r }}
	l.run(ctx, stop, spec.VUs)
	closeStop()
	bg.Wait()
	r.sample(clock.Now())
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	r.Close(cctx)
	if err := sink.Err(); err != nil {
		fmt.Fprintf(stderr, "loadtest: replica %d: writing events: %v\n", r.idx, err)
		return 1
	}
	return 0
}
