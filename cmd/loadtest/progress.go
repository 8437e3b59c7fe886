package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress prints one line a second while a run goes on: requests,
// failures, upstream calls and errors in the last second, and each
// replica's breaker state.
type progress struct {
	w     io.Writer
	mode  string
	log   *eventLog
	start time.Time

	lastRequests, lastCalls, lastErrors int64
}

func (p *progress) print(now time.Time) {
	req, calls, errs := p.log.requests.Load(), p.log.calls.Load(), p.log.callErrors.Load()
	var states []string
	for i := range p.log.states {
		states = append(states, state(p.log.states[i].Load()).String())
	}
	fmt.Fprintf(p.w, "%6.1fs %-6s requests %d (+%d)  degraded %d  failed %d  upstream +%d calls, +%d errors  breakers [%s]\n",
		now.Sub(p.start).Seconds(), p.mode, req, req-p.lastRequests, p.log.degraded.Load(), p.log.failed.Load(),
		calls-p.lastCalls, errs-p.lastErrors, strings.Join(states, " "))
	p.lastRequests, p.lastCalls, p.lastErrors = req, calls, errs
}
