package load

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// chart is a line chart drawn as inline SVG (no script, no external asset).
type chart struct {
	Title, XLabel, YLabel string
	Lines                 []line
	Marks                 []mark // vertical markers (ramp steps, the knee)
	// XTicks, when set, labels the x axis at these values (the percentile
	// plot); otherwise round numbers are chosen.
	XTicks []tick
	YMin   float64 // the y axis starts here (or lower, if data is)
}

type line struct {
	Name, Color string
	Dashed      bool
	Pts         []xy
}

type xy struct{ X, Y float64 }

type mark struct {
	X     float64
	Label string
	Color string
}

type tick struct {
	V     float64
	Label string
}

const (
	chartW, chartH         = 640, 300
	padL, padR, padT, padB = 64, 150, 30, 44
	plotW, plotH           = chartW - padL - padR, chartH - padT - padB
)

// palette colours lines in order.
var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"}

// bounds of every point and mark.
func (c chart) bounds() (x0, x1, y0, y1 float64) {
	x0, x1, y0, y1 = math.Inf(1), math.Inf(-1), c.YMin, math.Inf(-1)
	for _, l := range c.Lines {
		for _, p := range l.Pts {
			x0, x1 = math.Min(x0, p.X), math.Max(x1, p.X)
			y0, y1 = math.Min(y0, p.Y), math.Max(y1, p.Y)
		}
	}
	for _, m := range c.Marks {
		x0, x1 = math.Min(x0, m.X), math.Max(x1, m.X)
	}
	for _, t := range c.XTicks {
		x0, x1 = math.Min(x0, t.V), math.Max(x1, t.V)
	}
	if math.IsInf(x0, 1) {
		x0, x1, y1 = 0, 1, 1
	}
	if x1 <= x0 {
		x1 = x0 + 1
	}
	if y1 <= y0 {
		y1 = y0 + 1
	}
	return x0, x1, y0, y1 * 1.05
}

// niceTicks are round values covering lo..hi, about n of them.
func niceTicks(lo, hi float64, n int) []float64 {
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step) * step; v <= hi+step/1e6; v += step {
		out = append(out, v)
	}
	return out
}

func num(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e9:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// SVG renders the chart.
func (c chart) SVG() template.HTML {
	x0, x1, y0, y1 := c.bounds()
	sx := func(x float64) float64 { return padL + (x-x0)/(x1-x0)*plotW }
	sy := func(y float64) float64 { return padT + plotH - (y-y0)/(y1-y0)*plotH }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		chartW, chartH, chartW, chartH, html.EscapeString(c.Title))
	fmt.Fprintf(&b, `<text x="%d" y="18" class="title">%s</text>`, padL, html.EscapeString(c.Title))
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" class="plot"/>`, padL, padT, plotW, plotH)
	for _, v := range niceTicks(y0, y1, 5) {
		y := sy(v)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" class="grid"/><text x="%d" y="%.1f" class="ylab">%s</text>`,
			padL, padL+plotW, y, y, padL-6, y+4, num(v))
	}
	xt := c.XTicks
	if xt == nil {
		for _, v := range niceTicks(x0, x1, 6) {
			xt = append(xt, tick{V: v, Label: num(v)})
		}
	}
	for _, t := range xt {
		x := sx(t.V)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" class="grid"/><text x="%.1f" y="%d" class="xlab">%s</text>`,
			x, x, padT, padT+plotH, x, padT+plotH+16, html.EscapeString(t.Label))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="xlab">%s</text>`, padL+plotW/2, chartH-6, html.EscapeString(c.XLabel))
	fmt.Fprintf(&b, `<text x="14" y="%d" class="ylab" transform="rotate(-90 14 %d)">%s</text>`, padT+plotH/2, padT+plotH/2, html.EscapeString(c.YLabel))
	for _, m := range c.Marks {
		x := sx(m.X)
		lx, anchor := x+3, "start"
		if x > padL+plotW*0.85 {
			lx, anchor = x-3, "end" // near the right edge: label on the left
		}
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="%s" class="mark"/><text x="%.1f" y="%d" class="marklab" fill="%s" text-anchor="%s">%s</text>`,
			x, x, padT, padT+plotH, m.Color, lx, padT+12, m.Color, anchor, html.EscapeString(m.Label))
	}
	for i, l := range c.Lines {
		if len(l.Pts) == 0 {
			continue
		}
		var pts []string
		for _, p := range l.Pts {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", sx(p.X), sy(p.Y)))
		}
		dash := ""
		if l.Dashed {
			dash = ` stroke-dasharray="5 4"`
		}
		fmt.Fprintf(&b, `<polyline points="%s" stroke="%s"%s class="line"/>`, strings.Join(pts, " "), l.Color, dash)
		if len(l.Pts) == 1 {
			fmt.Fprintf(&b, `<circle cx="%s" r="3" fill="%s"/>`, strings.Replace(pts[0], ",", `" cy="`, 1), l.Color)
		}
		ly := padT + 14 + i*18
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s"%s class="line"/><text x="%d" y="%d" class="legend">%s</text>`,
			padL+plotW+10, padL+plotW+30, ly-4, ly-4, l.Color, dash, padL+plotW+36, ly, html.EscapeString(l.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
