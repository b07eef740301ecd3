package plan

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// svgSeries is one line of the plot.
type svgSeries struct {
	name  string
	color string
	value func(Sample) float64
}

// WriteSVG plots the report's timeline as an SVG image: desired, ready and
// all pods, and requests queued and running, over time, with panic mode
// shaded (darker where more runs panic).
func (r *Report) WriteSVG(w io.Writer) error {
	const (
		width, height          = 960, 420
		left, right, top, bott = 60, 170, 40, 50
	)
	tl := r.Timeline
	if len(tl) == 0 {
		return fmt.Errorf("plan: no timeline to plot")
	}
	series := []svgSeries{
		{"desired pods", "#1f77b4", func(s Sample) float64 { return s.Desired }},
		{"ready pods", "#2ca02c", func(s Sample) float64 { return s.Ready }},
		{"all pods (cost)", "#d62728", func(s Sample) float64 { return s.Pods }},
		{"queued requests", "#ff7f0e", func(s Sample) float64 { return s.Queued }},
		{"running requests", "#9467bd", func(s Sample) float64 { return s.Running }},
	}
	tMax := tl[len(tl)-1].T
	yMax := 1.0
	for _, s := range tl {
		for _, se := range series {
			yMax = max(yMax, se.value(s))
		}
	}
	yMax = niceCeil(yMax)
	tMax = max(tMax, 1)
	pw, ph := float64(width-left-right), float64(height-top-bott)
	x := func(t float64) float64 { return left + t/tMax*pw }
	y := func(v float64) float64 { return top + ph - v/yMax*ph }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	title := fmt.Sprintf("%s — %d requests, %.0f pod-s, %.0f s in panic (mean of %d runs)",
		describe(&r.Settings), r.Summary.Requests, r.Summary.PodSeconds.Mean, r.Summary.PanicSeconds.Mean, r.Runs)
	if len(title) > 150 {
		title = title[:147] + "..."
	}
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="11">%s</text>`+"\n", left, html.EscapeString(title))
	// Panic mode, shaded by the fraction of runs panicking.
	dt := tMax / float64(max(len(tl)-1, 1))
	for _, s := range tl {
		if s.Panic > 0 {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.2f" height="%.0f" fill="#d62728" fill-opacity="%.2f"/>`+"\n",
				x(s.T), top, dt/tMax*pw, ph, 0.15*s.Panic)
		}
	}
	// Axes and grid.
	for i := 0; i <= 5; i++ {
		v := yMax * float64(i) / 5
		fmt.Fprintf(&b, `<line x1="%d" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, left+pw, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%g</text>`+"\n", left-6, y(v)+4, v)
		t := tMax * float64(i) / 5
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle">%.0f</text>`+"\n", x(t), top+ph+18, t)
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle">time (s)</text>`+"\n", left+pw/2, height-10)
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#333"/>`+"\n", left, top, pw, ph)
	for i, se := range series {
		var pts strings.Builder
		for _, s := range tl {
			fmt.Fprintf(&pts, "%.1f,%.1f ", x(s.T), y(se.value(s)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", se.color, strings.TrimSpace(pts.String()))
		ly := top + 14 + 20*i
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%d" y2="%d" stroke="%s" stroke-width="2"/>`+"\n", left+pw+12, left+pw+32, ly, ly, se.color)
		fmt.Fprintf(&b, `<text x="%.0f" y="%d">%s</text>`+"\n", left+pw+38, ly+4, se.name)
	}
	ly := top + 14 + 20*len(series)
	fmt.Fprintf(&b, `<rect x="%.0f" y="%d" width="20" height="10" fill="#d62728" fill-opacity="0.15"/>`+"\n", left+pw+12, ly-5)
	fmt.Fprintf(&b, `<text x="%.0f" y="%d">panic mode</text>`+"\n", left+pw+38, ly+4)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// niceCeil rounds x up to 1, 2 or 5 times a power of ten.
func niceCeil(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}
