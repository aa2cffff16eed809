package load

import (
	"fmt"
	"math"
)

// receiptKinds are the kinds plotted (the submission's reply, then the
// receipts).
var receiptKinds = []Kind{Submit, Accettazione, PresaInCarico, Consegna, Trasporto, Errore}

// shortName labels a kind in a legend.
func shortName(k Kind) string {
	if k == Consegna {
		return "consegna"
	}
	return string(k)
}

func colorOf(k Kind) string {
	for i, x := range Kinds {
		if x == k {
			return palette[i%len(palette)]
		}
	}
	return palette[0]
}

// stepMarks mark where each ramp step began (by the series' clock).
func (r *Result) stepMarks() []mark {
	if r.Knee == nil {
		return nil
	}
	var out []mark
	for i, p := range r.Phases {
		out = append(out, mark{X: p.Start.Sub(r.Started).Seconds(), Label: fmt.Sprintf("%d: %.3g/s", i+1, p.Rate), Color: "#999"})
	}
	return out
}

// latencyOverTime plots each kind's p99 per second (by arrival).
func (r *Result) latencyOverTime() chart {
	c := chart{Title: "Latency over time (p99 per second, from the intended send time)", XLabel: "seconds since the start",
		YLabel: "ms", Marks: r.stepMarks()}
	for _, k := range receiptKinds {
		l := line{Name: shortName(k) + " p99", Color: colorOf(k)}
		for _, p := range r.Series {
			if v, ok := p.Kinds[k]; ok {
				l.Pts = append(l.Pts, xy{p.T, v.P99})
			}
		}
		if len(l.Pts) > 0 {
			c.Lines = append(c.Lines, l)
		}
	}
	return c
}

// throughputOverTime plots the offered rate against what was submitted and
// completed each second.
func (r *Result) throughputOverTime() chart {
	c := chart{Title: "Throughput over time", XLabel: "seconds since the start", YLabel: "messages/s", Marks: r.stepMarks()}
	off := line{Name: "offered", Color: "#999", Dashed: true}
	sub := line{Name: "submitted (250)", Color: colorOf(Submit)}
	done := line{Name: "completed", Color: colorOf(Consegna)}
	for _, p := range r.Series {
		off.Pts = append(off.Pts, xy{p.T, p.Offered})
		sub.Pts = append(sub.Pts, xy{p.T, float64(p.Submitted)})
		done.Pts = append(done.Pts, xy{p.T, float64(p.Completed)})
	}
	c.Lines = []line{off, sub, done}
	return c
}

// memoryOverTime plots the generator's resident memory.
func (r *Result) memoryOverTime() chart {
	l := line{Name: "pecspec RSS", Color: colorOf(Trasporto)}
	for _, p := range r.Series {
		l.Pts = append(l.Pts, xy{p.T, p.RSSMiB})
	}
	return chart{Title: "Memory of the generator", XLabel: "seconds since the start", YLabel: "MiB", Lines: []line{l}, Marks: r.stepMarks()}
}

// percentileTicks label the percentile plot's x axis: x = log10(1/(1-q)).
var percentileTicks = []tick{{0, "0%"}, {1, "90%"}, {2, "99%"}, {3, "99.9%"}, {4, "99.99%"}, {5, "99.999%"}}

// percentiles plots each kind's latency distribution of phase p, as
// HdrHistogram's percentile plots do.
func percentiles(p *Phase) chart {
	c := chart{Title: fmt.Sprintf("Latency by percentile, from the intended send time (%.4g msg/s)", p.Rate), XLabel: "percentile",
		YLabel: "ms", XTicks: percentileTicks}
	for _, k := range receiptKinds {
		h, err := DecodeHist(p.Hists[k].Intended)
		if err != nil || h.Count() == 0 {
			continue
		}
		l := line{Name: string(k), Color: colorOf(k)}
		top := math.Min(5, math.Log10(float64(h.Count())))
		for x := 0.0; x <= top+1e-9; x += 0.05 {
			q := 1 - math.Pow(10, -x)
			l.Pts = append(l.Pts, xy{x, ms(h.Quantile(q))})
		}
		l.Pts = append(l.Pts, xy{top, ms(h.Max())})
		c.Lines = append(c.Lines, l)
	}
	return c
}

// kneeCharts plot a ramp: achieved against offered rate (the diagonal is
// keeping up), and each receipt's p99 against the offered rate.
func (r *Result) kneeCharts() []chart {
	if r.Knee == nil {
		return nil
	}
	rates := chart{Title: "Ramp: achieved against offered rate", XLabel: "offered messages/s", YLabel: "achieved messages/s"}
	lat := chart{Title: "Ramp: p99 against offered rate (from the intended send time)", XLabel: "offered messages/s", YLabel: "ms"}
	diag := line{Name: "offered", Color: "#999", Dashed: true}
	ach := line{Name: "achieved", Color: colorOf(Consegna)}
	for _, p := range r.Phases {
		diag.Pts = append(diag.Pts, xy{p.Rate, p.Rate})
		ach.Pts = append(ach.Pts, xy{p.Rate, p.AchievedRate})
	}
	rates.Lines = []line{diag, ach}
	for _, k := range receiptKinds {
		l := line{Name: shortName(k) + " p99", Color: colorOf(k)}
		for _, p := range r.Phases {
			if st := p.Stats[k].Intended; st.Count > 0 {
				l.Pts = append(l.Pts, xy{p.Rate, st.P99})
			}
		}
		if len(l.Pts) > 0 {
			lat.Lines = append(lat.Lines, l)
		}
	}
	if r.Knee.Found {
		m := mark{X: r.Knee.Rate, Label: fmt.Sprintf("knee %.4g/s", r.Knee.Rate), Color: "#2ca02c"}
		rates.Marks, lat.Marks = []mark{m}, []mark{m}
	}
	if r.Knee.BrokeAt > 0 {
		m := mark{X: r.Knee.BrokeAt, Label: "broke", Color: "#d62728"}
		rates.Marks, lat.Marks = append(rates.Marks, m), append(lat.Marks, m)
	}
	return []chart{rates, lat}
}
