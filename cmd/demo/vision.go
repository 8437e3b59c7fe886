package main

import (
	"context"
	"fmt"

	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/nutrition/meal"
)

// The vision chain: the primary model → the other provider → the local
// meal parser (served_by "estimate": no model saw the meal). Each model
// reads the photo and/or caption into foods and grams as structured
// output, and may use visionShare of the time left in the request. A model
// that finds no food ("hello there") has answered: the chain stops, and
// the reply says that no food was recognised (no_food), served by that
// model; only a model that fails, or whose answer is not a meal (a bad
// answer, see badAnswerError), makes the chain fall back. With no model
// configured (the demo's in-process fake upstream stands in for them), a
// caption alone is read by the local parser (served_by "caption").

// visionShare is the part of the time left before the request's deadline
// each model of the vision chain may use: the primary gets 40 %, the
// fallback 40 % of what remains, and the nutrition lookups keep the rest.
const visionShare = 0.4

// seen is one food of a meal as the vision chain read it.
type seen struct {
	meal.Item
	// modelGrams is the weight a model gave a food the parser does not
	// know; 0 for the parser's own items.
	modelGrams float64
}

// mealVision is what the vision chain found.
type mealVision struct {
	Items []seen
	// Estimated: no model saw the meal; the local parser read the caption,
	// or nothing could read the photo.
	Estimated bool
}

// fromParser wraps the parser's items.
func fromParser(items []meal.Item) []seen {
	out := make([]seen, len(items))
	for i, it := range items {
		out[i] = seen{Item: it}
	}
	return out
}

// see runs the vision chain on a photo and/or caption; caption is the
// caption as the local parser read it (items), for the last step.
func (s *service) see(ctx context.Context, photo []byte, mediaType, caption string, items []meal.Item) (chain.Result[mealVision], error) {
	if len(photo) == 0 && s.fake != nil {
		return chain.Result[mealVision]{Value: mealVision{Items: fromParser(items)}, Step: "caption"}, nil
	}
	model := func(name string) chain.Step[mealVision] {
		step := chain.GuardedStep(s.guards[name], func(ctx context.Context) (mealVision, error) {
			answer, err := s.providers[name].describe(ctx, photo, mediaType, caption)
			if err != nil {
				return mealVision{}, err
			}
			// A meal without foods is the model's answer: the chain stops
			// there. An answer that is not a meal is a failure of the model
			// (badAnswerError): its breaker counts it, and the chain falls
			// back.
			return s.readModelMeal(answer)
		})
		step.Share = visionShare
		return step
	}
	steps := []chain.Step[mealVision]{model(s.cfg.VisionPrimary)}
	if s.cfg.VisionFallback != "none" {
		steps = append(steps, model(s.cfg.VisionFallback))
	}
	steps = append(steps, chain.Step[mealVision]{Name: "estimate", Degraded: true, Fn: func(context.Context) (mealVision, error) {
		return mealVision{Items: fromParser(items), Estimated: true}, nil
	}})
	c, err := chain.New("vision", steps, s.chainOptions()...)
	if err != nil {
		return chain.Result[mealVision]{}, err
	}
	return c.Execute(ctx)
}

// readModelMeal reads a model's meal JSON into items: each food's name is
// matched by the local parser and weighed as the model says; a name the
// parser does not know keeps the model's weight for a lookup by name. A
// meal without foods gives no items and no error; a name the parser
// refuses (a control character) makes the answer a bad one.
func (s *service) readModelMeal(answer string) (mealVision, error) {
	listed, err := parseMeal(answer)
	if err != nil {
		return mealVision{}, err
	}
	var out mealVision
	for _, m := range listed {
		it, err := s.facts.parser.Named(m.Name, m.Grams)
		if err != nil {
			return mealVision{}, badAnswer(fmt.Errorf("vision: item %q: %w", m.Name, err))
		}
		sn := seen{Item: it}
		if !it.Known {
			sn.modelGrams = m.Grams
		}
		out.Items = append(out.Items, sn)
	}
	return out, nil
}
