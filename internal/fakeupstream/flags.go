package fakeupstream

import (
	"errors"
	"flag"
)

// RegisterFlags registers flags on fs that set c, their names starting
// with prefix (with prefix "upstream-": -upstream-seed):
//
//	-<prefix>seed N             the seed of the fault decisions
//	-<prefix>openai-key KEY     the only OpenAI key accepted (empty: any)
//	-<prefix>anthropic-key KEY  the only Anthropic key accepted (empty: any)
//	-<prefix>usda-key KEY       the only USDA api_key accepted (empty: any)
//	-<prefix>faults JSON        faults from the start, by upstream, as in
//	                            POST /admin/faults: '{"openai":{"error_rate":0.2}}'
//
// A -faults value that is not valid stops flag parsing with an error that
// names the field.
func (c *Config) RegisterFlags(fs *flag.FlagSet, prefix string) {
	fs.Uint64Var(&c.Seed, prefix+"seed", c.Seed, "seed of the fault decisions: the same seed gives the same faults in the same order")
	fs.StringVar(&c.OpenAIKey, prefix+"openai-key", c.OpenAIKey, "the only OpenAI API key accepted (empty accepts any)")
	fs.StringVar(&c.AnthropicKey, prefix+"anthropic-key", c.AnthropicKey, "the only Anthropic API key accepted (empty accepts any)")
	fs.StringVar(&c.USDAKey, prefix+"usda-key", c.USDAKey, "the only USDA FoodData Central api_key accepted (empty accepts any)")
	fs.Func(prefix+"faults", `faults from the start, as JSON by upstream, e.g. '{"openai":{"error_rate":0.2,"error_status":429},"usda":{"outage":"reset"}}'`, func(value string) error {
		up, err := ParseFaultUpdate([]byte(value))
		switch {
		case err != nil:
			return err
		case up.Reset:
			return errors.New("fakeupstream: faults: reset has no meaning at start")
		case up.Seed != nil:
			return errors.New("fakeupstream: faults: set the seed with -" + prefix + "seed")
		}
		c.Faults = up.Faults
		return nil
	})
}
