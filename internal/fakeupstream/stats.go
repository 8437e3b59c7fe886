package fakeupstream

import "sync/atomic"

// FaultCounts counts the faults injected into one upstream's answers, by
// kind.
type FaultCounts struct {
	Error     uint64 `json:"error"`     // error status with the upstream's error body (rate or outage)
	Hang      uint64 `json:"hang"`      // no answer until the client gave up
	Reset     uint64 `json:"reset"`     // connection closed abruptly (rate or outage)
	Malformed uint64 `json:"malformed"` // 200 with invalid JSON
	Truncated uint64 `json:"truncated"` // 200 with the body cut half-way
}

// Total returns the number of faults of every kind.
func (c FaultCounts) Total() uint64 {
	return c.Error + c.Hang + c.Reset + c.Malformed + c.Truncated
}

// Counts are one upstream's request counters. Once no request is in
// flight, Requests = OK + Rejected + Canceled + Faults.Total().
type Counts struct {
	// Requests is the number of requests received.
	Requests uint64 `json:"requests"`
	// OK counts requests answered 200 with a well-formed body.
	OK uint64 `json:"ok"`
	// Rejected counts requests the upstream itself refused, as the real
	// one would: a wrong API key, a bad request, an unknown food.
	Rejected uint64 `json:"rejected"`
	// Canceled counts requests whose client gave up during the added
	// latency, before a fate was served.
	Canceled uint64 `json:"canceled"`
	// Delayed counts requests given a positive latency (with any fate).
	Delayed uint64 `json:"delayed"`
	// InFlight is the number of requests being handled now.
	InFlight int64 `json:"in_flight"`
	// Faults counts the injected faults.
	Faults FaultCounts `json:"faults"`
}

// Stats holds the counters of every upstream.
type Stats map[Upstream]Counts

// counters are one upstream's live counters.
type counters struct {
	requests, ok, rejected, canceled, delayed atomic.Uint64
	inFlight                                  atomic.Int64
	faults                                    [kindCount]atomic.Uint64
}

func (c *counters) snapshot() Counts {
	return Counts{
		Requests: c.requests.Load(),
		OK:       c.ok.Load(),
		Rejected: c.rejected.Load(),
		Canceled: c.canceled.Load(),
		Delayed:  c.delayed.Load(),
		InFlight: c.inFlight.Load(),
		Faults: FaultCounts{
			Error:     c.faults[kindError].Load(),
			Hang:      c.faults[kindHang].Load(),
			Reset:     c.faults[kindReset].Load(),
			Malformed: c.faults[kindMalformed].Load(),
			Truncated: c.faults[kindTruncated].Load(),
		},
	}
}

// reset zeroes the counters except InFlight. Requests in flight are still
// counted when they end, so the invariant of Counts holds again only once
// they have.
func (c *counters) reset() {
	for _, v := range []*atomic.Uint64{&c.requests, &c.ok, &c.rejected, &c.canceled, &c.delayed} {
		v.Store(0)
	}
	for i := range c.faults {
		c.faults[i].Store(0)
	}
}
