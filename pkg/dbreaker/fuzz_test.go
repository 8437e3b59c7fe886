package dbreaker

import (
	"strings"
	"testing"
)

// FuzzParseReply: no reply from Redis, however malformed, panics the
// decoder; a reply it accepts has a known state.
func FuzzParseReply(f *testing.F) {
	f.Add("closed||0|0|0|0|0|0||1|0||0", 3, false)
	f.Add("open|forced_open|3|2000|1000|1|5|0|9f:2|7|1|closed|open|3|2000|1|900|950|boom | bar", 1, true)
	f.Add("half_open||2|0|5|0|0|1|9f:2|1|1||1|open|half_open|2|0", 3, false)
	f.Add("||||||||||||", 0, true)
	f.Fuzz(func(t *testing.T, reply string, own int, full bool) {
		if own < 0 || own > 8 {
			return
		}
		r, err := parseReply("fuzz", reply, own, full)
		if err != nil {
			return
		}
		if r.snap.Underlying > HalfOpen || r.snap.State > Disabled || len(r.own) != own {
			t.Fatalf("accepted %q as %+v", reply, r)
		}
	})
}

// FuzzValidateName: a name that passes validation can never leave its hash
// tag, and validation never panics.
func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"openai", "usda.fdc:v1", "a{b}", "", strings.Repeat("x", 65), "naïve", "a\x00b"} {
		f.Add(s)
	}
	store := &RedisStore{prefix: DefaultKeyPrefix}
	f.Fuzz(func(t *testing.T, name string) {
		if ValidateName(name) != nil {
			return
		}
		state, window, probes := store.Keys(name)
		for _, key := range []string{state, window, probes} {
			open, close := strings.Index(key, "{"), strings.Index(key, "}")
			if strings.Count(key, "{") != 1 || strings.Count(key, "}") != 1 || key[open+1:close] != name {
				t.Fatalf("name %q gives key %q with another hash tag", name, key)
			}
		}
	})
}
