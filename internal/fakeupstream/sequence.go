package fakeupstream

import "sync/atomic"

// sequence numbers the requests of one upstream since its fault or the
// seed was last set, and derives each request's draws from the seed, the
// upstream and that number alone. The n-th request therefore meets the
// same fate in every run with the same seed, however requests interleave
// with those of other upstreams, and without a lock.
type sequence struct {
	fault Fault
	seed  uint64
	salt  uint64
	next  atomic.Uint64
}

// The draws taken for each request, one stream each.
const (
	streamFate uint64 = iota + 1
	streamJitter
	streamID
)

// take returns the number of the next request.
func (s *sequence) take() uint64 { return s.next.Add(1) - 1 }

// draw returns the request's draw in [0, 1) for stream.
func (s *sequence) draw(n, stream uint64) float64 {
	return float64(s.bits(n, stream)>>11) / (1 << 53)
}

// bits returns 64 random-looking bits for request n and stream.
func (s *sequence) bits(n, stream uint64) uint64 {
	return mix64(s.seed ^ mix64(s.salt*0x9e3779b97f4a7c15+stream) ^ mix64(n+0x632be59bd9b4e019))
}

// mix64 is the finaliser of SplitMix64: a bijection whose output bits all
// depend on all input bits.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
