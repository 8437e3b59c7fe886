package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// The text chain: the language models in the order of the table of
// upstreams (Anthropic → OpenAI) → a cached answer → a friendly error.

// friendlyError is the last step's answer: honest, and still an answer.
const friendlyError = "Sorry, I can't reach my nutrition assistant right now. " +
	"Please try again in a minute; meanwhile, meal photos still get estimates from our food database."

// answerCache keeps this replica's recent answers by normalised question,
// for the text chain's degraded step. Bounded: the oldest entry goes first.
type answerCache struct {
	mu    sync.Mutex
	max   int
	order []string
	byKey map[string]string
}

func newAnswerCache(max int) *answerCache {
	return &answerCache{max: max, byKey: make(map[string]string)}
}

func questionKey(q string) string {
	return strings.Join(strings.Fields(strings.ToLower(q)), " ")
}

func (c *answerCache) put(q, answer string) {
	k := questionKey(q)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[k]; !ok {
		c.order = append(c.order, k)
		if len(c.order) > c.max {
			delete(c.byKey, c.order[0])
			c.order = c.order[1:]
		}
	}
	c.byKey[k] = answer
}

var errNoCachedAnswer = errors.New("no cached answer for this question")

func (c *answerCache) get(q string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := c.byKey[questionKey(q)]; ok {
		return a, nil
	}
	return "", errNoCachedAnswer
}

// chatAnswer is what POST /v1/chat returns.
type chatAnswer struct {
	Answer   string `json:"answer"`
	ServedBy string `json:"served_by"`
	Degraded bool   `json:"degraded"`
	// Simulated: invented by the fake upstreams (UPSTREAMS).
	Simulated bool `json:"simulated"`
}

// textShare is the part of the time left before the request's deadline
// each model of the text chain may use.
const textShare = 0.5

// chatFacts writes the figures of the foods a question mentions, as the
// meal parser weighs them ("an egg" is one large egg): the models are told
// to use them, so that chat and meals agree. The error is the parser's
// *meal.InputError for an amount /v1/meals would refuse ("0 g rice").
func (s *service) chatFacts(question string) (string, error) {
	found, err := s.facts.parser.Find(question)
	if err != nil {
		return "", err
	}
	var facts []string
	for _, it := range found {
		var n sr24.Nutrients
		for _, c := range it.Components {
			f, _ := s.data.Food(c.NDB)
			n = n.Add(f.Per100g.Scale(c.Grams))
		}
		facts = append(facts, fmt.Sprintf("%s is %s g (%s): %.0f kcal, %.1f g protein, %.1f g carbohydrate, %.1f g fat.",
			it.Text, formatGrams(it.Grams), it.Food, n.EnergyKcal, n.ProteinG, n.CarbohydrateG, n.FatG))
	}
	return strings.Join(facts, " "), nil
}

// ask runs the text chain, the models told the facts (see chatFacts).
func (s *service) ask(ctx context.Context, question, facts string) (chatAnswer, error) {
	llm := func(name string) chain.Step[string] {
		step := chain.GuardedStep(s.guards[name], func(ctx context.Context) (string, error) {
			return s.providers[name].ask(ctx, question, facts)
		})
		step.Share = textShare
		return step
	}
	var steps []chain.Step[string]
	for _, m := range models() { // in the order of the table of upstreams
		steps = append(steps, llm(m.name))
	}
	steps = append(steps,
		chain.Step[string]{Name: "cached_answer", Degraded: true, Fn: func(context.Context) (string, error) { return s.answers.get(question) }},
		chain.Step[string]{Name: "friendly_error", Degraded: true, Fn: func(context.Context) (string, error) { return friendlyError, nil }},
	)
	// A question this replica never answered is no failure of the cache.
	noCached := func(err error) bool { return errors.Is(err, errNoCachedAnswer) }
	c, err := chain.New("text", steps, append(s.chainOptions(), chain.WithNotFound(noCached))...)
	if err != nil {
		return chatAnswer{}, err
	}
	res, err := c.Execute(ctx)
	if err != nil {
		return chatAnswer{}, err
	}
	if res.Index < len(steps)-2 { // a model answered: keep it for when none can
		s.answers.put(question, res.Value)
	}
	return chatAnswer{Answer: res.Value, ServedBy: res.Step, Degraded: res.Degraded}, nil
}
