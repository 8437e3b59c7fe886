package main

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// binWidth is the width of the plot's rate bins.
const binWidth = 250 * time.Millisecond

var (
	faultShade = color.NRGBA{R: 255, G: 120, B: 120, A: 60}
	redisShade = color.NRGBA{R: 90, G: 140, B: 255, A: 60}
	palette    = []color.Color{
		color.RGBA{R: 31, G: 119, B: 180, A: 255},
		color.RGBA{R: 255, G: 127, B: 14, A: 255},
		color.RGBA{R: 44, G: 160, B: 44, A: 255},
		color.RGBA{R: 214, G: 39, B: 40, A: 255},
		color.RGBA{R: 148, G: 103, B: 189, A: 255},
		color.RGBA{R: 140, G: 86, B: 75, A: 255},
	}
)

// writePlot draws each run as a column of three panels sharing the time
// axis: every replica's breaker state, upstream calls and failed calls per
// second, and requests per second by outcome. The fault window is shaded
// red, Redis' absence blue.
func writePlot(path string, c *config, runs []modeRun) error {
	rows := 3
	plots := make([][]*plot.Plot, rows)
	for i := range plots {
		plots[i] = make([]*plot.Plot, len(runs))
	}
	for j, run := range runs {
		col, err := runPlots(c, run)
		if err != nil {
			return err
		}
		for i := range rows {
			plots[i][j] = col[i]
		}
	}
	w := vg.Length(len(runs)) * 4.5 * vg.Inch
	h := 8 * vg.Inch
	var canvas vg.CanvasWriterTo
	if strings.EqualFold(filepath.Ext(path), ".png") {
		canvas = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(110))}
	} else {
		canvas = vgsvg.New(w, h)
	}
	dc := draw.New(canvas)
	tiles := draw.Tiles{Rows: rows, Cols: len(runs), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(plots, tiles, dc)
	for i := range rows {
		for j := range runs {
			plots[i][j].Draw(canvases[i][j])
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("loadtest: -plot: %w", err)
	}
	if _, err := canvas.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("loadtest: -plot: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("loadtest: -plot: %w", err)
	}
	return nil
}

// runPlots returns the three panels of one run.
func runPlots(c *config, run modeRun) ([]*plot.Plot, error) {
	mode := run.Result.Mode
	end := run.Input.End.Seconds()

	states := plot.New()
	states.Title.Text = mode + ": breaker state per replica"
	states.Y.Min, states.Y.Max = -0.3, 2.5
	states.Y.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 0, Label: "closed"}, {Value: 1, Label: "half-open"}, {Value: 2, Label: "open"}})
	if mode == modeNone {
		states.Title.Text = mode + ": no breaker"
	}
	calls := plot.New()
	calls.Title.Text = "upstream calls per second"
	reqs := plot.New()
	reqs.Title.Text = "requests per second"
	reqs.X.Label.Text = "seconds"
	panels := []*plot.Plot{states, calls, reqs}
	for _, p := range panels {
		p.X.Min, p.X.Max = 0, end
		p.Legend.Top = true
		p.Legend.Left = false
		p.Legend.TextStyle.Font.Size = vg.Points(8)
		p.Add(plotter.NewGrid())
	}

	bins := rateBins(run.Events, run.Input.End)
	calls.Y.Min, calls.Y.Max = 0, 1.15*maxRate(bins, func(b rateBin) []float64 { return []float64{b.calls, b.failedCalls} })
	reqs.Y.Min, reqs.Y.Max = 0, 1.15*maxRate(bins, func(b rateBin) []float64 { return []float64{b.full, b.degraded, b.failed} })
	for _, p := range panels { // shading first, so the lines are drawn over it
		if f := run.Input.Fault; f != nil {
			if err := shade(p, *f, p.Y.Max, faultShade); err != nil {
				return nil, err
			}
		}
		if d := run.Input.RedisDown; d != nil {
			if err := shade(p, *d, p.Y.Max, redisShade); err != nil {
				return nil, err
			}
		}
	}

	if mode != modeNone {
		series := stateSeries(run.Events, c.Replicas)
		for i, xys := range series {
			if len(xys) == 0 {
				continue
			}
			for k := range xys { // a small offset keeps replicas apart
				xys[k].Y += 0.07 * float64(i)
			}
			l, err := plotter.NewLine(xys)
			if err != nil {
				return nil, err
			}
			l.StepStyle = plotter.PostStep
			l.Color = palette[i%len(palette)]
			l.Width = vg.Points(1.5)
			states.Add(l)
			states.Legend.Add(fmt.Sprintf("replica %d", i), l)
		}
		probes, crashes := markers(run.Events)
		if len(probes) > 0 {
			sc, err := plotter.NewScatter(probes)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle = draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: vg.Points(2.5), Color: color.Black}
			states.Add(sc)
			states.Legend.Add("probe", sc)
		}
		if len(crashes) > 0 {
			sc, err := plotter.NewScatter(crashes)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle = draw.GlyphStyle{Shape: draw.CrossGlyph{}, Radius: vg.Points(5), Color: color.NRGBA{R: 200, A: 255}}
			states.Add(sc)
			states.Legend.Add("replica killed", sc)
		}
	}

	if err := addRates(calls, bins, []string{"calls", "failed calls"}, func(b rateBin) []float64 { return []float64{b.calls, b.failedCalls} }); err != nil {
		return nil, err
	}
	if err := addRates(reqs, bins, []string{"full", "degraded", "failed"}, func(b rateBin) []float64 { return []float64{b.full, b.degraded, b.failed} }); err != nil {
		return nil, err
	}
	return panels, nil
}

// stateSeries is each replica's sampled breaker state over time, in
// seconds (0 closed, 1 half-open, 2 open).
func stateSeries(events []event, replicas int) []plotter.XYs {
	out := make([]plotter.XYs, replicas)
	for _, e := range events {
		if e.Kind != kindState || e.State == nil || *e.State == stateNone || e.Replica < 0 || e.Replica >= replicas {
			continue
		}
		out[e.Replica] = append(out[e.Replica], plotter.XY{X: e.At.Seconds(), Y: float64(*e.State)})
	}
	return out
}

// markers are the half-open probes (at their start, on the half-open
// level) and the replicas' deaths (on the level of the state they had).
func markers(events []event) (probes, crashes plotter.XYs) {
	for _, e := range events {
		switch e.Kind {
		case kindCall:
			if e.Probe {
				probes = append(probes, plotter.XY{X: e.At.Seconds(), Y: float64(stateHalfOpen) + 0.07*float64(e.Replica)})
			}
		case kindCrash:
			crashes = append(crashes, plotter.XY{X: e.At.Seconds(), Y: float64(stateHalfOpen) + 0.07*float64(e.Replica)})
		}
	}
	return probes, crashes
}

// rateBin holds per-second rates over one bin.
type rateBin struct {
	at                     float64 // the bin's start, seconds
	calls, failedCalls     float64
	full, degraded, failed float64
}

// rateBins counts calls (by start) and requests (by end) per bin of
// binWidth, as rates per second.
func rateBins(events []event, end time.Duration) []rateBin {
	n := int(end/binWidth) + 1
	bins := make([]rateBin, n)
	per := float64(time.Second) / float64(binWidth)
	for i := range bins {
		bins[i].at = (time.Duration(i) * binWidth).Seconds()
	}
	idx := func(t time.Duration) int { return min(max(int(t/binWidth), 0), n-1) }
	for _, e := range events {
		switch e.Kind {
		case kindCall:
			b := &bins[idx(e.At)]
			b.calls += per
			if !e.OK {
				b.failedCalls += per
			}
		case kindRequest:
			b := &bins[idx(e.At+e.Dur)]
			switch e.Outcome {
			case outcomeFull:
				b.full += per
			case outcomeDegraded:
				b.degraded += per
			default:
				b.failed += per
			}
		}
	}
	return bins
}

// maxRate is the largest of the values over every bin, at least 1.
func maxRate(bins []rateBin, values func(rateBin) []float64) float64 {
	top := 1.0
	for _, b := range bins {
		for _, v := range values(b) {
			top = max(top, v)
		}
	}
	return top
}

func addRates(p *plot.Plot, bins []rateBin, names []string, values func(rateBin) []float64) error {
	for k, name := range names {
		xys := make(plotter.XYs, len(bins))
		for i, b := range bins {
			xys[i] = plotter.XY{X: b.at, Y: values(b)[k]}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		l.StepStyle = plotter.PostStep
		l.Color = palette[k%len(palette)]
		l.Width = vg.Points(1.2)
		p.Add(l)
		p.Legend.Add(name, l)
	}
	return nil
}

// shade fills a span of the time axis.
func shade(p *plot.Plot, w window, top float64, c color.Color) error {
	bottom := min(p.Y.Min, 0)
	poly, err := plotter.NewPolygon(plotter.XYs{
		{X: w.Start.Seconds(), Y: bottom}, {X: w.End.Seconds(), Y: bottom},
		{X: w.End.Seconds(), Y: top}, {X: w.Start.Seconds(), Y: top},
	})
	if err != nil {
		return err
	}
	poly.Color = c
	poly.LineStyle.Width = 0
	poly.LineStyle.Color = c
	p.Add(poly)
	return nil
}
