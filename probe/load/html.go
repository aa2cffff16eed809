package load

import (
	_ "embed"
	"html/template"
	"os"
	"path/filepath"
)

// load.html: one self-contained page (inline CSS and SVG drawn here, no
// script, nothing loaded from outside).

//go:embed load.html.tmpl
var htmlTemplate string

var htmlTmpl = template.Must(template.New("load").Funcs(template.FuncMap{
	"inc": func(i int) int { return i + 1 },
	"ms":  fmtMs,
	"msd": func(n int64, v float64) string {
		if n == 0 {
			return "-"
		}
		return fmtMs(v)
	},
	"p99":     func(p *Phase, k string) string { return statCell(p, Kind(k)) },
	"verdict": verdict,
	"counts":  countList,
	"kcounts": func(m map[Kind]int64) string { return countList(kindCounts(m)) },
}).Parse(htmlTemplate))

type htmlRow struct {
	Kind  Kind
	Label string
	S     KindStats
}

type htmlPage struct {
	R      *Result
	Pass   bool
	Main   *Phase
	Rows   []htmlRow
	Charts []chart
	Knee   []chart
}

// mainPhase is the phase the page details: the steady one, or the knee.
func (r *Result) mainPhase() *Phase {
	if r.Knee != nil {
		if p := r.kneePhase(); p != nil {
			return p
		}
	}
	if len(r.Phases) == 0 {
		return nil
	}
	return r.Phases[0]
}

// WriteHTML writes load.html.
func (r *Result) WriteHTML(path string) error {
	pg := htmlPage{R: r, Pass: r.Pass(), Main: r.mainPhase(), Knee: r.kneeCharts()}
	pg.Charts = []chart{r.latencyOverTime()}
	if pg.Main != nil {
		for _, k := range Kinds {
			pg.Rows = append(pg.Rows, htmlRow{Kind: k, Label: kindLabel(k), S: pg.Main.Stats[k]})
		}
		pg.Charts = append(pg.Charts, percentiles(pg.Main))
	}
	pg.Charts = append(pg.Charts, r.throughputOverTime(), r.memoryOverTime())
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := htmlTmpl.Execute(f, pg); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
