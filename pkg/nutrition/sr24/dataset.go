package sr24

// Dataset is the USDA SR24 food data with the curated aliases and an
// in-memory index for looking foods up by name. It is read-only once
// loaded and safe for concurrent use.
type Dataset struct {
	foods   []Food           // sorted by NDB number
	byNDB   map[string]int32 // NDB number → index in foods
	aliases []alias          // in the order of aliases.csv

	// Lookup index, built by buildIndex.
	exact      map[string]int32 // alias name as written → index in aliases
	normal     map[string]int32 // normalised name → index in entries
	entries    []entry          // aliases first, then food descriptions
	trigramIDs map[uint64]int32 // trigram → id
	start      []int32          // postings of trigram id i: post[start[i]:start[i+1]]
	post       []int32          // entry indexes, by trigram id

	// Scaffolding used while loading only.
	portions  []Portion
	portionOf []int32
	aliasLine map[string]int
}

// alias is an Alias with its food and normalised name.
type alias struct {
	Alias
	food int32
	key  string
}

// entry is one name the lookup index can match: an alias or a food's
// description.
type entry struct {
	text     string // the alias name or the description, as written
	key      string // Normalize(text)
	food     int32
	alias    bool
	trigrams int32 // number of distinct trigrams of key
}

// Food returns the food with the given NDB number ("05064").
func (d *Dataset) Food(ndb string) (Food, bool) {
	i, ok := d.byNDB[ndb]
	if !ok {
		return Food{}, false
	}
	return d.foods[i].clone(), true
}

// Foods returns every food, sorted by NDB number. The slice and the foods'
// portions are the caller's own.
func (d *Dataset) Foods() []Food {
	out := make([]Food, len(d.foods))
	for i, f := range d.foods {
		out[i] = f.clone()
	}
	return out
}

// Len returns the number of foods.
func (d *Dataset) Len() int { return len(d.foods) }

// Aliases returns the curated aliases in the order of aliases.csv (sorted
// by name).
func (d *Dataset) Aliases() []Alias {
	out := make([]Alias, len(d.aliases))
	for i, a := range d.aliases {
		out[i] = a.Alias
	}
	return out
}
