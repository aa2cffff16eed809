package scenarios

import (
	"bytes"
	_ "embed"
	"encoding/xml"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// matrix.html: one self-contained page (inline CSS, no script, nothing
// loaded from outside), rows = sender, columns = receiver, each cell
// coloured by outcome with its counts and worst rule, linking to the pair's
// report.html; the diagonal and the table below summarise each provider.

//go:embed matrix.html.tmpl
var matrixTemplate string

var matrixTmpl = template.Must(template.New("matrix").Funcs(template.FuncMap{
	"ms": func(d time.Duration) string { return d.Round(time.Millisecond).String() },
}).Parse(matrixTemplate))

type matrixPage struct {
	M                     *Matrix
	Duration              time.Duration
	Names                 []string
	Pairs                 int
	Rows                  []matrixRow
	Problems              []string
	Verdict, VerdictText  string
	Unexpected, Stale, NP int
}

type matrixRow struct {
	P                                      *MatrixProvider
	Cells                                  []gridCell
	Single, Clock                          *Cell
	SingleCounts, ClockCounts              string
	SenderRules, ReceiverRules, AloneRules string
}

type gridCell struct {
	C           *Cell
	Self        bool
	Clock       *Cell
	ClockCounts string
	Headline    string
	Counts      string
	Title       string
	By          string
	More        int // other rules that failed in the cell
}

// WriteMatrix writes m as matrix.json, matrix.html and junit.xml (one
// testsuite per unit that ran) in dir, whose units' summaries it reads.
func WriteMatrix(dir string, m *Matrix) error {
	if err := writeJSONFile(filepath.Join(dir, "matrix.json"), m); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := matrixTmpl.Execute(&buf, m.page()); err != nil {
		return fmt.Errorf("%w: matrix.html: %v", ErrHarness, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "matrix.html"), buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("%w: %v", ErrHarness, err)
	}
	return writeMatrixJUnit(dir, m)
}

func (m *Matrix) page() matrixPage {
	p := matrixPage{M: m, Duration: m.Finished.Sub(m.Started)}
	for _, prov := range m.Providers {
		p.Names = append(p.Names, prov.Name)
	}
	p.Pairs = len(p.Names) * (len(p.Names) - 1)
	for _, prov := range m.Providers {
		row := matrixRow{P: prov, Single: m.cell("single", prov.Name, ""), Clock: m.cell("clock", prov.Name, ""),
			SenderRules: ruleList(prov.AsSender), ReceiverRules: ruleList(prov.AsReceiver), AloneRules: ruleList(prov.Alone)}
		row.SingleCounts, row.ClockCounts = row.Single.counts(), row.Clock.counts()
		for _, recv := range p.Names {
			if recv == prov.Name {
				row.Cells = append(row.Cells, gridCell{C: orEmpty(row.Single), Self: true, Clock: row.Clock,
					ClockCounts: row.ClockCounts, Counts: row.SingleCounts, Title: orEmpty(row.Single).title()})
				continue
			}
			c := orEmpty(m.cell("pair", prov.Name, recv))
			g := gridCell{C: c, Headline: c.headline(), Counts: c.counts(), Title: c.title()}
			rules := map[string]bool{}
			for _, r := range c.Rules {
				rules[r.Rule] = true
				if r.Rule == c.WorstRule && r.By != "" {
					g.By = r.By
				}
			}
			g.More = max(len(rules)-1, 0)
			row.Cells = append(row.Cells, g)
		}
		p.Rows = append(p.Rows, row)
	}
	p.Problems = m.Problems()
	p.Verdict, p.VerdictText = "pass", "every pair passed"
	switch {
	case len(p.Problems) > 0:
		p.Verdict, p.VerdictText = "error", "the harness could not judge everything"
	case m.Unexpected() > 0 || m.StaleCount() > 0:
		p.Verdict = "fail"
		p.VerdictText = fmt.Sprintf("%d unexpected failures, %d stale expectations", m.Unexpected(), m.StaleCount())
	case m.expectedCount() > 0:
		p.Verdict, p.VerdictText = "expected", "every failure was expected"
	}
	return p
}

func orEmpty(c *Cell) *Cell {
	if c == nil {
		return &Cell{Outcome: outcomeNotRun}
	}
	return c
}

// headline is the cell's first line.
func (c *Cell) headline() string {
	switch c.Outcome {
	case outcomePass:
		return fmt.Sprintf("✓ %d passed", c.Passed)
	case outcomeExpected:
		return "✓ as expected"
	case outcomeFail:
		return fmt.Sprintf("✗ %d failed", c.Failed)
	case outcomeError:
		return "harness error"
	case outcomeUnreachable:
		return "unreachable"
	case outcomeEmpty:
		return "no scenario selected"
	}
	return "not run here"
}

// counts is "14 pass · 2 fail · 3 expected" (only what is not zero).
func (c *Cell) counts() string {
	if c == nil || c.Status == unitElsewhere || c.Status == unitUnreachable || c.Status == "" {
		return ""
	}
	var parts []string
	for _, x := range []struct {
		n    int
		what string
	}{{c.Passed, "pass"}, {c.Failed, "fail"}, {c.Expected, "expected"}, {c.Errors, "error"}, {c.Skipped, "skipped"}, {c.Pending, "pending"}} {
		if x.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", x.n, x.what))
		}
	}
	if len(parts) == 0 {
		return "no scenario"
	}
	return strings.Join(parts, " · ")
}

// title is the cell's tooltip: its rules, or why it did not run.
func (c *Cell) title() string {
	if c.Reason != "" {
		return c.Reason
	}
	var parts []string
	for _, r := range c.Rules {
		s := fmt.Sprintf("%s ×%d", r.Rule, r.Failures)
		if r.Expected > 0 {
			s += fmt.Sprintf(" (%d expected)", r.Expected)
		}
		if r.By != "" {
			s += " by " + r.By
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// ruleList renders "GEN-15 ×12, DAT-12 ×12".
func ruleList(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		name := k
		if name == "" {
			name = "(no rule)"
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", name, counts[k]))
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, ", ")
}

// Problems are the harness problems of the matrix: the lab or a provider
// unreachable, a unit the harness could not run or judge.
func (m *Matrix) Problems() []string {
	var out []string
	if m.LabError != "" {
		out = append(out, "the lab: "+m.LabError)
	}
	for _, p := range m.Providers {
		if p.Unreachable != "" {
			out = append(out, p.Name+" unreachable: "+p.Unreachable)
		}
	}
	for _, name := range sortedKeys(m.LabUnreachable) {
		out = append(out, name+" (the lab's counterpart) unreachable: "+m.LabUnreachable[name])
	}
	for _, c := range m.Cells {
		switch {
		case c.Status == unitFailed:
			out = append(out, fmt.Sprintf("%s: %s", c.label(), c.Reason))
		case c.Errors > 0:
			out = append(out, fmt.Sprintf("%s: %d scenarios could not be judged (see %s)", c.label(), c.Errors, c.Report))
		}
	}
	return out
}

// Unexpected counts the scenarios with an unexpected failure.
func (m *Matrix) Unexpected() int { return m.sumCells(func(c *Cell) int { return c.Failed }) }

func (m *Matrix) expectedCount() int { return m.sumCells(func(c *Cell) int { return c.Expected }) }

// Ran counts the scenarios that ran.
func (m *Matrix) Ran() int { return m.sumCells(func(c *Cell) int { return c.Scenarios }) }

func (m *Matrix) sumCells(f func(*Cell) int) int {
	n := 0
	for _, c := range m.Cells {
		n += f(c)
	}
	return n
}

// StaleCount counts the expectations no failure matched.
func (m *Matrix) StaleCount() int {
	n := 0
	for _, p := range m.Providers {
		n += len(p.Stale)
	}
	return n
}

// label names a cell as the console does.
func (c *Cell) label() string {
	if c.Kind == "pair" {
		return c.Sender + " → " + c.Receiver
	}
	return c.Sender + " (" + c.Kind + ")"
}

// PrintTable prints the matrix as text: one line per sender.
func (m *Matrix) PrintTable(w io.Writer) {
	fmt.Fprintf(w, "\n%-14s", "send \\ recv")
	for _, p := range m.Providers {
		fmt.Fprintf(w, " %-22s", p.Name)
	}
	fmt.Fprintln(w)
	for _, x := range m.Providers {
		fmt.Fprintf(w, "%-14s", x.Name)
		for _, y := range m.Providers {
			kind, recv := "pair", y.Name
			if x.Name == y.Name {
				kind, recv = "single", ""
			}
			c := orEmpty(m.cell(kind, x.Name, recv))
			text := c.Outcome
			if c.Status == unitRan {
				text = fmt.Sprintf("%s %d/%d", c.Outcome, c.Passed, c.Scenarios)
			}
			if c.WorstRule != "" {
				text += " " + c.WorstRule
			}
			fmt.Fprintf(w, " %-22s", text)
		}
		fmt.Fprintln(w)
	}
	for _, p := range m.Problems() {
		fmt.Fprintf(w, "harness problem   %s\n", p)
	}
	for _, p := range m.Providers {
		for _, e := range p.Stale {
			fmt.Fprintf(w, "STALE expectation %s: %s %s: it no longer fails (%s)\n", p.Name, e.Rule, e.Scenario, e.Reason)
		}
	}
	fmt.Fprintf(w, "\n%d units, %d scenarios: %d with unexpected failures, %d with expected failures (%v)\n",
		len(m.Cells), m.Ran(), m.Unexpected(), m.expectedCount(), m.Finished.Sub(m.Started).Round(time.Millisecond))
}

// matrixJUnit is the matrix's junit.xml: one testsuite per unit, one test
// case per scenario; a scenario fails when it has an unexpected failure.
type matrixJUnit struct {
	XMLName  xml.Name      `xml:"testsuites"`
	Name     string        `xml:"name,attr"`
	Tests    int           `xml:"tests,attr"`
	Failures int           `xml:"failures,attr"`
	Errors   int           `xml:"errors,attr"`
	Skipped  int           `xml:"skipped,attr"`
	Suites   []matrixSuite `xml:"testsuite"`
}

type matrixSuite struct {
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Cases    []matrixCase `xml:"testcase"`
}

type matrixCase struct {
	Name      string  `xml:"name,attr"`
	Classname string  `xml:"classname,attr"`
	Status    string  `xml:"status,attr"`
	Failure   *xmlMsg `xml:"failure,omitempty"`
	Error     *xmlMsg `xml:"error,omitempty"`
	Skipped   *xmlMsg `xml:"skipped,omitempty"`
}

type xmlMsg struct {
	Message string `xml:"message,attr"`
}

func writeMatrixJUnit(dir string, m *Matrix) error {
	j := matrixJUnit{Name: "pecspec matrix"}
	for _, c := range m.Cells {
		if c.Status != unitRan {
			continue
		}
		s, err := ReadSummary(filepath.Join(dir, c.Dir))
		if err != nil {
			return err
		}
		suite := matrixSuite{Name: c.label(), Time: fmt.Sprintf("%.3f", c.Seconds)}
		for _, sc := range s.Scenarios {
			tc := matrixCase{Name: sc.Name, Classname: c.label(), Status: sc.Status}
			switch {
			case sc.Status == "error" || sc.Status == "undefined":
				tc.Error, suite.Errors = &xmlMsg{firstLine(sc.Error)}, suite.Errors+1
			case sc.Status == "skipped" || sc.Status == "pending":
				tc.Skipped, suite.Skipped = &xmlMsg{firstLine(sc.Error)}, suite.Skipped+1
			case sc.Status == "failed" && unexpectedIn(s.Outcome, sc.Name):
				tc.Failure, suite.Failures = &xmlMsg{unexpectedText(s.Outcome, sc.Name)}, suite.Failures+1
			}
			suite.Cases = append(suite.Cases, tc)
		}
		suite.Tests = len(suite.Cases)
		j.Tests, j.Failures, j.Errors, j.Skipped = j.Tests+suite.Tests, j.Failures+suite.Failures, j.Errors+suite.Errors, j.Skipped+suite.Skipped
		j.Suites = append(j.Suites, suite)
	}
	return writeXML(filepath.Join(dir, "junit.xml"), j)
}

func unexpectedIn(o Outcome, scenario string) bool {
	for _, f := range o.Unexpected {
		if f.Scenario == scenario {
			return true
		}
	}
	return false
}

// unexpectedText lists a scenario's unexpected failures by rule.
func unexpectedText(o Outcome, scenario string) string {
	var parts []string
	for _, f := range o.Unexpected {
		if f.Scenario == scenario {
			parts = append(parts, f.Rule+": "+firstLine(f.Detail))
		}
	}
	return strings.Join(parts, "; ")
}
