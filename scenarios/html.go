package scenarios

import (
	_ "embed"
	"fmt"
	"html"
	"html/template"
	"io"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/report"
)

// report.html: a self-contained page (inline CSS and SVG, no script, no
// external resource) a provider or a regulator can hand over: the verdict
// per flow, per scenario a sequence diagram of the messages exchanged with
// their timestamps, per message its rule table and a link to the raw .eml,
// and the requirement-coverage table of pec-rules §9.

//go:embed report.html.tmpl
var reportTemplate string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"lower": strings.ToLower,
	"ms":    func(d time.Duration) string { return d.Round(time.Millisecond).String() },
}).Parse(reportTemplate))

type htmlPage struct {
	S         *Summary
	Duration  time.Duration
	Flows     []flowRow
	Scenarios []htmlScenario
	Coverage  []htmlCoverage
	Covered   int
	Uncovered []string // message-level MUST rules no scenario grades
}

type flowRow struct {
	Tag                       string
	Scenarios, Passed, Failed int
}

type htmlScenario struct {
	*ScenarioResult
	Anchor   string
	Flow     string
	Diagram  template.HTML
	Messages []htmlMessage
}

type htmlMessage struct {
	MessageResult
	Fails, Passes int
}

type htmlCoverage struct {
	CoverageRow
	Counts map[string]int // verdicts of the rule in the run, by status
}

// WriteHTML renders report.html from the summary and the coverage table of
// features.
func WriteHTML(w io.Writer, s *Summary, features fs.FS) error {
	p := htmlPage{S: s, Duration: s.Finished.Sub(s.Started)}
	flows := map[string]*flowRow{}
	for _, sc := range s.Scenarios {
		h := htmlScenario{ScenarioResult: sc, Anchor: "sc-" + probe.Slug(sc.Name), Diagram: diagram(sc)}
		for _, t := range sc.Tags {
			if strings.HasPrefix(t, "@flow-") {
				h.Flow = t
				f := flows[t]
				if f == nil {
					f = &flowRow{Tag: t}
					flows[t] = f
				}
				f.Scenarios++
				if sc.Status == "passed" {
					f.Passed++
				} else {
					f.Failed++
				}
			}
		}
		for _, m := range sc.Messages {
			hm := htmlMessage{MessageResult: m}
			for _, v := range m.Verdicts {
				switch v.Status {
				case report.Fail:
					hm.Fails++
				case report.Pass:
					hm.Passes++
				}
			}
			h.Messages = append(h.Messages, hm)
		}
		p.Scenarios = append(p.Scenarios, h)
	}
	for _, k := range sortedKeys(flows) {
		p.Flows = append(p.Flows, *flows[k])
	}
	rows, err := Coverage(features)
	if err != nil {
		return fmt.Errorf("%w: coverage: %v", ErrHarness, err)
	}
	for _, row := range rows {
		counts := map[string]int{}
		for st, n := range s.Totals.Rules[row.ID] {
			counts[string(st)] = n
		}
		p.Coverage = append(p.Coverage, htmlCoverage{CoverageRow: row, Counts: counts})
		if len(row.Scenarios) > 0 {
			p.Covered++
		}
	}
	p.Uncovered = UncoveredMessageMust(rows)
	if err := reportTmpl.Execute(w, p); err != nil {
		return fmt.Errorf("%w: report.html: %v", ErrHarness, err)
	}
	return nil
}

// Sequence diagram geometry (pixels).
const (
	laneWidth = 190
	rowHeight = 34
	topMargin = 46
)

// diagram draws the scenario as an SVG sequence diagram: one lifeline per
// party (the submitting user, each provider that sent something — named by
// the domain of its From — and each mailbox the probe read), one arrow per
// message in the order the probe captured it, labelled with its kind and
// the time since the submission; each arrow links to the raw .eml.
func diagram(sc *ScenarioResult) template.HTML {
	if len(sc.Messages) == 0 {
		return ""
	}
	var lanes []string
	lane := func(name string) int {
		for i, l := range lanes {
			if strings.EqualFold(l, name) {
				return i
			}
		}
		lanes = append(lanes, name)
		return len(lanes) - 1
	}
	type arrow struct {
		from, to  int
		label     string
		href      string
		failed    bool
		submitted bool
	}
	// Times are shown on the providers' clocks, relative to the first
	// message they dated (the accettazione, usually).
	var t0 time.Time
	for _, m := range sc.Messages {
		if !m.Date.IsZero() && (t0.IsZero() || m.Date.Before(t0)) {
			t0 = m.Date
		}
	}
	var arrows []arrow
	if sc.Sender != "" {
		s := lane(sc.Sender)
		arrows = append(arrows, arrow{from: s, to: lane(domainOf(sc.Sender)), label: "submission", submitted: true})
	}
	msgs := append([]MessageResult(nil), sc.Messages...)
	// In the order the providers dated them (Date has whole seconds: ties
	// go by the order of the flow, then by capture).
	sort.SliceStable(msgs, func(i, j int) bool {
		a, b := msgs[i], msgs[j]
		if !a.Date.Equal(b.Date) && !a.Date.IsZero() && !b.Date.IsZero() {
			return a.Date.Before(b.Date)
		}
		if flowRank(a.Kind) != flowRank(b.Kind) {
			return flowRank(a.Kind) < flowRank(b.Kind)
		}
		return a.Captured.Before(b.Captured)
	})
	for _, m := range msgs {
		from := lane(domainOf(m.From))
		to := lane(m.Mailbox)
		failed := false
		for _, v := range m.Verdicts {
			failed = failed || v.Status == report.Fail
		}
		label := string(m.Kind)
		if !m.Date.IsZero() {
			label += " " + m.Date.Format("15:04:05")
			if d := m.Date.Sub(t0).Round(time.Second); d >= time.Second {
				label += " (+" + d.String() + ")"
			}
		}
		arrows = append(arrows, arrow{from: from, to: to, label: label, href: m.File, failed: failed})
	}
	w := laneWidth * len(lanes)
	h := topMargin + rowHeight*len(arrows) + 16
	var b strings.Builder
	b.WriteString(`<div class="diagram">`)
	fmt.Fprintf(&b, `<svg class="seq" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="sequence of messages">`, w, h, w, h)
	for i, l := range lanes {
		x := laneWidth*i + laneWidth/2
		fmt.Fprintf(&b, `<text x="%d" y="16" text-anchor="middle" class="lane">%s</text>`, x, html.EscapeString(l))
		fmt.Fprintf(&b, `<line x1="%d" y1="24" x2="%d" y2="%d" class="life"/>`, x, x, h-4)
	}
	for i, a := range arrows {
		y := topMargin + rowHeight*i
		x1, x2 := laneWidth*a.from+laneWidth/2, laneWidth*a.to+laneWidth/2
		cls := "msg"
		if a.failed {
			cls = "msg bad"
		}
		if a.href != "" {
			fmt.Fprintf(&b, `<a href="%s">`, html.EscapeString(a.href))
		}
		if x1 == x2 { // a message a provider delivers to its own mailbox: a loop
			fmt.Fprintf(&b, `<path d="M%d %d h40 v12 h-36" class="%s" marker-end="url(#arrow)"/>`, x1, y-6, cls)
		} else {
			fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="%s" marker-end="url(#arrow)"/>`, x1, y, x2, y, cls)
		}
		lx := (x1 + x2) / 2
		if x1 == x2 {
			lx = x1 + 48
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" class="label">%s</text>`, lx, y-5, html.EscapeString(a.label))
		if a.href != "" {
			b.WriteString(`</a>`)
		}
	}
	b.WriteString(`</svg></div>`)
	return template.HTML(b.String()) // every text above is escaped
}

// flowRank orders the kinds as a flow produces them.
func flowRank(k pec.Kind) int {
	for i, x := range []pec.Kind{pec.KindNonAccettazione, pec.KindAccettazione, pec.KindTrasporto, pec.KindAnomalia,
		pec.KindPresaInCarico, pec.KindRilevazioneVirus, pec.KindAvvenutaConsegna, pec.KindErroreConsegna,
		pec.KindPreavvisoErroreConsegna} {
		if k == x {
			return i
		}
	}
	return 99
}

// domainOf is the domain of an address, or the address when it has none.
func domainOf(addr string) string {
	if _, d, ok := strings.Cut(addr, "@"); ok {
		return d
	}
	if addr == "" {
		return "(unknown sender)"
	}
	return addr
}
