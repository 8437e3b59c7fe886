package main

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// The vision chain: the primary model → the other provider → a mock result
// flagged "estimated".

// mealVision is what the vision chain found.
type mealVision struct {
	Items     []mealItem
	Estimated bool // the mock step guessed; no model saw the meal
}

// genericDish stands for a meal nobody could read: its nutrients are the
// estimate's, not looked up.
const genericDish = "meal (estimated)"

// captionMeal reads the foods a caption names, as the embedded data knows
// them: "150 g chicken breast, rice and 2 eggs" gives chicken breast
// (150 g), rice and egg with their usual portion (or 150 g when none is
// known). Parts it cannot match are skipped.
func captionMeal(data *sr24.Dataset, caption string) []mealItem {
	var items []mealItem
	parts := strings.FieldsFunc(strings.ToLower(caption), func(r rune) bool {
		return r == ',' || r == ';' || r == '.' || r == '\n' || r == '+' || r == '&'
	})
	for _, part := range parts {
		for _, piece := range strings.Split(strings.ReplaceAll(part, " with ", " and "), " and ") {
			piece = strings.TrimSpace(piece)
			for _, filler := range []string{"with ", "a ", "an ", "some "} {
				piece = strings.TrimPrefix(piece, filler)
			}
			amount, inGrams, name := splitAmount(piece)
			if name == "" || len(items) == 10 {
				continue
			}
			m, err := data.Lookup(name)
			if err != nil {
				continue
			}
			if !inGrams { // a count of pieces
				amount *= pieceGrams(m.Food.Portions)
			}
			items = append(items, mealItem{Name: name, Grams: math.Round(amount)})
		}
	}
	return items
}

// pieceGrams is the weight of one piece of a food ("2 eggs": one egg), from
// its household portions: a medium one, else large, small, a serving, a
// piece, a slice; 150 g when none fits.
func pieceGrams(portions []sr24.Portion) float64 {
	for _, word := range []string{"medium", "large", "small", "serving", "piece", "slice", "each", "fruit", "whole"} {
		for _, p := range portions {
			if p.Grams > 0 && strings.Contains(strings.ToLower(p.Description), word) {
				return p.Grams
			}
		}
	}
	return 150
}

// splitAmount reads a leading amount: "150 g rice", "150g rice", "150
// grams of rice" give 150 grams of "rice"; "2 eggs" gives 2 portions of
// "eggs"; no number gives 1 portion.
func splitAmount(s string) (amount float64, grams bool, name string) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return 0, false, ""
	}
	num := strings.TrimSuffix(strings.TrimSuffix(fields[0], "grams"), "g")
	rest := fields[1:]
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || !(n > 0 && n <= 5000) {
		return 1, false, s
	}
	grams = num != fields[0]
	if !grams && len(rest) > 0 && (rest[0] == "g" || rest[0] == "gram" || rest[0] == "grams") {
		grams, rest = true, rest[1:]
	}
	if len(rest) > 0 && rest[0] == "of" {
		rest = rest[1:]
	}
	if !grams && n > 20 {
		return 1, false, s // "100 calories"? not a count of portions
	}
	return n, grams, strings.Join(rest, " ")
}

// mockMeal is the vision chain's last step: the caption's foods, else one
// average plate, flagged estimated.
func mockMeal(data *sr24.Dataset, caption string) mealVision {
	items := captionMeal(data, caption)
	if len(items) == 0 {
		items = []mealItem{{Name: genericDish, Grams: 350}}
	}
	return mealVision{Items: items, Estimated: true}
}

// see runs the vision chain on a photo and/or caption. A caption alone
// needs no model when it names foods the embedded data knows.
func (s *service) see(ctx context.Context, photo []byte, mediaType, caption string) (chain.Result[mealVision], error) {
	if len(photo) == 0 {
		if items := captionMeal(s.data, caption); len(items) > 0 {
			return chain.Result[mealVision]{Value: mealVision{Items: items}, Step: "caption"}, nil
		}
	}
	model := func(name string) chain.Step[mealVision] {
		return chain.GuardedStep(s.guards[name], func(ctx context.Context) (mealVision, error) {
			answer, err := s.providers[name].describe(ctx, photo, mediaType, caption)
			if err != nil {
				return mealVision{}, err
			}
			items, err := parseMeal(answer)
			if err != nil && len(photo) == 0 {
				// The model read a caption and found no meal in it: an
				// answer, not a failure of the model (see nutrition.Classify).
				err = fmt.Errorf("%w: %w", nutrition.ErrNotFound, err)
			}
			return mealVision{Items: items}, err
		})
	}
	steps := []chain.Step[mealVision]{model(s.cfg.VisionPrimary)}
	if s.cfg.VisionFallback != "none" {
		steps = append(steps, model(s.cfg.VisionFallback))
	}
	steps = append(steps, chain.Step[mealVision]{Name: "estimate", Degraded: true, Fn: func(context.Context) (mealVision, error) {
		return mockMeal(s.data, caption), nil
	}})
	c, err := chain.New("vision", steps, s.chainOptions...)
	if err != nil {
		return chain.Result[mealVision]{}, err
	}
	return c.Run(ctx)
}
