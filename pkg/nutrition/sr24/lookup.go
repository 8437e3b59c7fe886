package sr24

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/healthagent/resilience/pkg/nutrition/internal/text"
)

// ErrNotFound is returned by Lookup when no food is close enough to the
// name. The error returned wraps it and says why.
var ErrNotFound = errors.New("sr24: no food matches")

// MatchKind says how Lookup or Search found a food.
type MatchKind string

// The ways a name can match, from the most to the least certain.
const (
	// MatchAlias: the name is exactly one of the curated aliases.
	MatchAlias MatchKind = "alias"
	// MatchNormalized: the name, normalised, equals the normalised form of
	// an alias or of a food's USDA description.
	MatchNormalized MatchKind = "normalized"
	// MatchSimilar: the name is similar to an alias or a description (see
	// Lookup for the score).
	MatchSimilar MatchKind = "similar"
)

// Minimum similarity scores for Lookup and Search to report a similar
// match. Lookup returns one food and is stricter; Search lists candidates.
const (
	MinLookupScore = 0.5
	MinSearchScore = 0.35
)

// MaxNameBytes is the longest name Lookup and Search consider; longer
// names match nothing.
const MaxNameBytes = 256

// minQueryTrigrams is the fewest distinct trigrams a normalised name needs
// for a similarity search: a name of one or two letters ("a", "xl") would
// otherwise be "found" in every description holding such a word.
const minQueryTrigrams = 4

// Match is a food found by name.
type Match struct {
	Food Food
	How  MatchKind
	// Score is 1 for alias and normalised matches, and the similarity
	// score, from MinLookupScore (or MinSearchScore) to 1, for similar ones.
	Score float64
	// Matched is the alias name or USDA description the name matched.
	Matched string
}

// Lookup finds the food a name stands for. It tries, in order:
//
//  1. an alias spelled exactly like name ("chicken breast"; aliases are
//     lower case);
//  2. an alias or a USDA description equal to name once both are
//     normalised with Normalize ("Chicken Breasts", "bananas, raw");
//  3. the most similar alias or description, if its score reaches
//     MinLookupScore.
//
// Similarity works on trigrams like PostgreSQL's pg_trgm: each word of the
// normalised text, padded with two spaces in front and one behind, gives
// its three-letter sequences. With Q the set of the name's trigrams and T
// that of a candidate, the score is the mean of the pg_trgm similarity
// |Q∩T| / |Q∪T| and the share of the name found in the candidate,
// |Q∩T| / |Q|; so word order does not matter, a typo costs a little, and a
// long USDA description is not punished too much for its extra words.
// Ties go to aliases, then to the shorter text, then to the lower NDB
// number.
//
// When nothing is close enough, or the name is empty or longer than
// MaxNameBytes, the error wraps ErrNotFound.
func (d *Dataset) Lookup(name string) (Match, error) {
	if len(name) > MaxNameBytes {
		return Match{}, fmt.Errorf("%w: the name is %d bytes long, over the limit of %d", ErrNotFound, len(name), MaxNameBytes)
	}
	if m, ok := d.exactMatch(name); ok {
		return m, nil
	}
	key := Normalize(name)
	if key == "" {
		return Match{}, fmt.Errorf("%w %q: it has no letter or digit", ErrNotFound, quoteShort(name))
	}
	if m, ok := d.normalMatch(key); ok {
		return m, nil
	}
	if len(trigrams(key)) < minQueryTrigrams {
		return Match{}, fmt.Errorf("%w %q: too short to search by similarity", ErrNotFound, quoteShort(name))
	}
	found, best := d.similar(key, 1, MinLookupScore)
	if len(found) == 1 {
		return found[0], nil
	}
	if best.entry < 0 {
		return Match{}, fmt.Errorf("%w %q: no alias or description shares a trigram with it", ErrNotFound, quoteShort(name))
	}
	return Match{}, fmt.Errorf("%w %q: the closest, %q, scores %.2f, below %.2f", ErrNotFound, quoteShort(name), d.entries[best.entry].text, best.score, MinLookupScore)
}

// Search lists up to limit foods matching query, best first, one Match per
// food: the alias or normalised match, if any, then similar foods scoring
// at least MinSearchScore (see Lookup). It returns nil when limit is not
// positive or the query is empty or longer than MaxNameBytes.
func (d *Dataset) Search(query string, limit int) []Match {
	if limit <= 0 || len(query) > MaxNameBytes {
		return nil
	}
	key := Normalize(query)
	if key == "" {
		return nil
	}
	var out []Match
	seen := make(map[int32]bool)
	add := func(m Match, food int32) {
		if len(out) < limit && !seen[food] {
			seen[food] = true
			out = append(out, m)
		}
	}
	if m, ok := d.exactMatch(query); ok {
		add(m, d.byNDB[m.Food.NDB])
	}
	if m, ok := d.normalMatch(key); ok {
		add(m, d.byNDB[m.Food.NDB])
	}
	found, _ := d.similar(key, limit+len(out), MinSearchScore)
	for _, m := range found {
		add(m, d.byNDB[m.Food.NDB])
	}
	return out
}

// exactMatch finds an alias spelled exactly like name.
func (d *Dataset) exactMatch(name string) (Match, bool) {
	i, ok := d.exact[name]
	if !ok {
		return Match{}, false
	}
	a := d.aliases[i]
	return Match{Food: d.foods[a.food].clone(), How: MatchAlias, Score: 1, Matched: a.Name}, true
}

// normalMatch finds an alias, or else a description, whose normalised
// form is key.
func (d *Dataset) normalMatch(key string) (Match, bool) {
	i, ok := d.normal[key]
	if !ok {
		return Match{}, false
	}
	e := d.entries[i]
	return Match{Food: d.foods[e.food].clone(), How: MatchNormalized, Score: 1, Matched: e.text}, true
}

// candidate is an entry sharing trigrams with a query.
type candidate struct {
	entry int32
	score float64
}

// similar returns up to limit foods whose aliases or descriptions are most
// similar to key (normalised), best first, one per food, scoring at least
// min; and the best candidate of all, whatever its score (entry -1 when no
// entry shares a trigram with key).
func (d *Dataset) similar(key string, limit int, min float64) ([]Match, candidate) {
	best := candidate{entry: -1}
	q := trigrams(key)
	if len(q) < minQueryTrigrams || limit <= 0 {
		return nil, best
	}
	counts := make([]uint16, len(d.entries)) // trigrams shared with key
	for _, t := range q {
		for _, e := range d.postings(t) {
			counts[e]++
		}
	}
	nq := float64(len(q))
	var cands []candidate
	for e, n := range counts {
		if n == 0 {
			continue
		}
		shared := float64(n)
		sim := shared / (nq + float64(d.entries[e].trigrams) - shared)
		c := candidate{entry: int32(e), score: (sim + shared/nq) / 2}
		if best.entry < 0 || d.compare(c, best) < 0 {
			best = c
		}
		if c.score >= min {
			cands = append(cands, c)
		}
	}
	slices.SortFunc(cands, d.compare)
	var out []Match
	seen := make(map[int32]bool)
	for _, c := range cands {
		e := d.entries[c.entry]
		if seen[e.food] {
			continue
		}
		seen[e.food] = true
		out = append(out, Match{Food: d.foods[e.food].clone(), How: MatchSimilar, Score: c.score, Matched: e.text})
		if len(out) == limit {
			break
		}
	}
	return out, best
}

// compare orders candidates best first: higher score, then aliases, then
// shorter text, then lower NDB number, then earlier entry.
func (d *Dataset) compare(a, b candidate) int {
	if a.score != b.score {
		if a.score > b.score {
			return -1
		}
		return 1
	}
	ea, eb := &d.entries[a.entry], &d.entries[b.entry]
	if ea.alias != eb.alias {
		if ea.alias {
			return -1
		}
		return 1
	}
	if c := len(ea.key) - len(eb.key); c != 0 {
		return c
	}
	if c := strings.Compare(d.foods[ea.food].NDB, d.foods[eb.food].NDB); c != 0 {
		return c
	}
	return int(a.entry - b.entry)
}

// buildIndex fills the lookup index from the foods and aliases: the maps
// for exact and normalised names, and an inverted index from each trigram
// to the entries holding it, stored flat (postings of trigram id i are
// post[start[i]:start[i+1]], in ascending entry order).
func (d *Dataset) buildIndex() {
	d.aliasLine = nil
	d.exact = make(map[string]int32, len(d.aliases))
	d.normal = make(map[string]int32, len(d.aliases)+len(d.foods))
	d.entries = make([]entry, 0, len(d.aliases)+len(d.foods))
	for i, a := range d.aliases {
		d.exact[a.Name] = int32(i)
		d.entries = append(d.entries, entry{text: a.Name, key: a.key, food: a.food, alias: true})
	}
	for i, f := range d.foods {
		d.entries = append(d.entries, entry{text: f.Description, key: Normalize(f.Description), food: int32(i)})
	}

	// Pass 1: give each trigram an id, list each entry's distinct ids and
	// count the entries per id.
	d.trigramIDs = make(map[uint64]int32, 4096)
	var (
		counts   []int32 // entries per trigram id
		lastSeen []int32 // last entry (plus one) that counted the id
		flat     []int32 // the distinct ids of every entry, entry after entry
		buf      []uint64
	)
	capacity := 0 // a word of n bytes has at most n+1 trigrams
	for i := range d.entries {
		capacity += len(d.entries[i].key) + 2
	}
	flat = make([]int32, 0, capacity)
	ends := make([]int32, len(d.entries)) // end of each entry's ids in flat
	for i := range d.entries {
		e := &d.entries[i]
		if _, dup := d.normal[e.key]; !dup {
			d.normal[e.key] = int32(i)
		}
		buf = appendTrigrams(buf[:0], e.key)
		first := len(flat)
		for _, t := range buf {
			id, ok := d.trigramIDs[t]
			if !ok {
				id = int32(len(counts))
				d.trigramIDs[t] = id
				counts = append(counts, 0)
				lastSeen = append(lastSeen, 0)
			}
			if lastSeen[id] == int32(i)+1 {
				continue // the same trigram twice in one entry
			}
			lastSeen[id] = int32(i) + 1
			counts[id]++
			flat = append(flat, id)
		}
		e.trigrams = int32(len(flat) - first)
		ends[i] = int32(len(flat))
	}

	// Pass 2: lay the postings out by id, entries in ascending order.
	d.start = make([]int32, len(counts)+1)
	for id, n := range counts {
		d.start[id+1] = d.start[id] + n
	}
	next := slices.Clone(d.start[:len(counts)])
	d.post = make([]int32, len(flat))
	from := int32(0)
	for i, end := range ends {
		for _, id := range flat[from:end] {
			d.post[next[id]] = int32(i)
			next[id]++
		}
		from = end
	}
}

// postings returns the entries holding trigram t, in ascending order.
func (d *Dataset) postings(t uint64) []int32 {
	id, ok := d.trigramIDs[t]
	if !ok {
		return nil
	}
	return d.post[d.start[id]:d.start[id+1]]
}

// appendTrigrams appends to buf the trigrams of a normalised text (words
// separated by single spaces), in the manner of pg_trgm: each word padded
// with two spaces in front and one behind, every run of three runes packed
// into a uint64. The result may hold the same trigram more than once.
func appendTrigrams(buf []uint64, key string) []uint64 {
	a, b := rune(' '), rune(' ')
	inWord := false
	for _, c := range key {
		if c == ' ' {
			if inWord {
				buf = append(buf, pack(a, b, ' '))
			}
			a, b, inWord = ' ', ' ', false
			continue
		}
		buf = append(buf, pack(a, b, c))
		a, b, inWord = b, c, true
	}
	if inWord {
		buf = append(buf, pack(a, b, ' '))
	}
	return buf
}

// trigrams returns the distinct trigrams of a normalised text, sorted.
func trigrams(key string) []uint64 {
	t := appendTrigrams(nil, key)
	slices.Sort(t)
	return slices.Compact(t)
}

// pack packs three runes (21 bits each) into one trigram key.
func pack(a, b, c rune) uint64 {
	return uint64(a)<<42 | uint64(b)<<21 | uint64(c)
}

// quoteShort shortens a name for an error message.
func quoteShort(name string) string { return text.Cut(name, 60) }
