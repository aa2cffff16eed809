package scenarios

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/report"
)

// report.html: a self-contained page (inline CSS and SVG, no script, no
// external resource) a provider or a regulator can hand over, on screen and
// on paper. It opens with the run (target, provider, harness version and
// commit, the lab clock) and the verdict; a failing run then lists its
// failures by rule and by scenario. Per scenario: its Gherkin steps with
// their status, a sequence diagram of the messages between the parties with
// the providers' timestamps, per message every verdict (failures in full,
// passes and n/a by rule ID) and a link to the raw .eml, and the SMTP/IMAP
// transcripts the probe recorded. Last, the coverage of pec-rules §9, its
// counts the sums of the per-message tables.

//go:embed report.html.tmpl
var reportTemplate string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"base": path.Base,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format("2006-01-02 15:04:05 -07:00")
	},
}).Parse(reportTemplate))

type htmlPage struct {
	S         *Summary
	Verdict   string // PASS, FAIL, or ERROR (could not judge): as the exit code
	Started   string
	Duration  string
	Harness   string
	Clock     string // why evidence is dated ahead, when the lab clock moved
	ByRule    []ruleFailures
	Failing   []*htmlScenario // scenarios with a finding, in error, or waiting
	Flows     []flowRow
	Scenarios []*htmlScenario
	Coverage  []htmlCoverage
	Covered   int
	Uncovered []string // message-level MUST rules nothing graded
}

type flowRow struct {
	Tag                                string
	Scenarios, Passed, Failed, Skipped int
	Members                            []*htmlScenario
}

type htmlScenario struct {
	*ScenarioResult
	Anchor      string
	Flow        string
	Rules       []string // the rule tags, compact
	Diagram     template.HTML
	Messages    []htmlMessage
	Transaction VerdictBlock
	Clock       string
	Protocol    bool // nothing captured: the transcripts are the evidence
	Failures    []Failure
	Expected    []Failure
	// FailRules and ExpectedRules are the rules of Failures and Expected.
	FailRules, ExpectedRules []string
}

type htmlMessage struct {
	MessageResult
	VerdictBlock
}

type htmlCoverage struct {
	CoverageRow
	Pass, Fail, Warn, NA, Error int
	Ran, RanPassed              int // tagged scenarios that ran, and passed
	Status                      string
}

// WriteHTML renders report.html from the summary and the coverage table of
// features.
func WriteHTML(w io.Writer, s *Summary, features fs.FS) error {
	p := htmlPage{S: s, Verdict: verdictOf(s), Started: s.Started.UTC().Format("2006-01-02 15:04:05 UTC"),
		Duration: s.Finished.Sub(s.Started).Round(time.Millisecond).String(), Harness: s.Harness.String(),
		Clock: clockNote(s.ClockOffset)}
	flows := map[string]*flowRow{}
	for _, sc := range s.Scenarios {
		h := newHTMLScenario(s, sc)
		p.Scenarios = append(p.Scenarios, h)
		if len(h.Failures) > 0 || sc.Status == "error" || sc.Status == "undefined" || sc.Status == "pending" {
			p.Failing = append(p.Failing, h)
		}
		f := flows[h.Flow]
		if f == nil {
			f = &flowRow{Tag: h.Flow}
			flows[h.Flow] = f
		}
		f.add(h)
	}
	for _, k := range sortedKeys(flows) {
		p.Flows = append(p.Flows, *flows[k])
	}
	p.ByRule = failuresByRule(s)
	rows, err := Coverage(features)
	if err != nil {
		return fmt.Errorf("%w: coverage: %v", ErrHarness, err)
	}
	p.Coverage, p.Covered, p.Uncovered = coverageOf(s, rows)
	if err := reportTmpl.Execute(w, p); err != nil {
		return fmt.Errorf("%w: report.html: %v", ErrHarness, err)
	}
	return nil
}

func (f *flowRow) add(h *htmlScenario) {
	f.Scenarios++
	f.Members = append(f.Members, h)
	switch h.Status {
	case "passed":
		f.Passed++
	case "skipped":
		f.Skipped++
	default:
		f.Failed++
	}
}

// verdictOf is the run's verdict as its exit code has it: ERROR when the
// harness could not judge (exit 2), FAIL for a finding (exit 1), PASS.
func verdictOf(s *Summary) string {
	t := s.Totals
	switch {
	case s.Interrupted != "" || t.Scenarios == 0 || t.Undefined > 0 || t.Errors > 0:
		return "ERROR"
	case !s.Outcome.Pass() || t.Pending > 0:
		return "FAIL"
	}
	return "PASS"
}

func newHTMLScenario(s *Summary, sc *ScenarioResult) *htmlScenario {
	h := &htmlScenario{ScenarioResult: sc, Anchor: "sc-" + probe.Slug(sc.Name), Diagram: diagram(sc),
		Transaction: blockOf(sc.Transaction), Protocol: len(sc.Messages) == 0 && len(sc.Transcripts) > 0}
	var rules []string
	for _, t := range sc.Tags {
		switch {
		case strings.HasPrefix(t, "@flow-"):
			h.Flow = t
		case strings.Count(t, "-") == 1 && len(t) > 4 && t[1] >= 'A' && t[1] <= 'Z':
			rules = append(rules, t[1:])
		}
	}
	h.Rules = idRanges(rules)
	for _, m := range sc.Messages {
		h.Messages = append(h.Messages, htmlMessage{MessageResult: m, VerdictBlock: blockOf(m.Verdicts)})
	}
	for _, f := range s.Outcome.Unexpected {
		if f.Scenario == sc.Name {
			h.Failures = append(h.Failures, f)
		}
	}
	for _, f := range s.Outcome.Expected {
		if f.Scenario == sc.Name {
			h.Expected = append(h.Expected, f)
		}
	}
	h.FailRules, h.ExpectedRules = uniqueRules(h.Failures), uniqueRules(h.Expected)
	if sc.ClockOffset != 0 {
		h.Clock = "the lab's clock was " + fmtOffset(sc.ClockOffset) + " ahead of real time at its end"
		if moved := sc.ClockOffset - sc.ClockStart; moved != 0 {
			h.Clock += "; this scenario moved it by " + fmtOffset(moved)
		}
	}
	return h
}

// clockNote says why the evidence is dated ahead of the run, when it is.
func clockNote(offset time.Duration) string {
	if offset == 0 {
		return ""
	}
	return fmt.Sprintf("At the end of the run the lab's clock was %s ahead of real time: the timeout scenarios "+
		"advance the providers' clocks through their admin API to fire the 12 h and 24 h timers in seconds "+
		"(RFC 6109 §3.1.6). Messages of the scenarios that ran after a move are dated ahead by as much; each "+
		"scenario gives its offset.", fmtOffset(offset))
}

// fmtOffset is "+2 d 1 h", "+13 h", "+5 min".
func fmtOffset(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "−", -d
	}
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf("%d d", days))
	}
	if hours > 0 {
		parts = append(parts, fmt.Sprintf("%d h", hours))
	}
	if mins > 0 || len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%d min", mins))
	}
	return sign + strings.Join(parts, " ")
}

// VerdictBlock is a table of verdicts as the report prints it: the
// failures, warnings and errors in full, the passes and n/a by rule ID.
type VerdictBlock struct {
	Problems []report.Verdict
	Pass, NA []string // rule IDs by family, consecutive ones as ranges
	All      []report.Verdict
	NPass    int
	NFail    int
	NWarn    int
	NNA      int
	NError   int
}

func blockOf(vs []report.Verdict) VerdictBlock {
	b := VerdictBlock{All: vs}
	var pass, na []string
	for _, v := range vs {
		switch v.Status {
		case report.Pass:
			b.NPass++
			pass = append(pass, v.Rule)
		case report.NA:
			b.NNA++
			na = append(na, v.Rule)
		default:
			b.Problems = append(b.Problems, v)
			switch v.Status {
			case report.Fail:
				b.NFail++
			case report.Warn:
				b.NWarn++
			default:
				b.NError++
			}
		}
	}
	b.Pass, b.NA = idRanges(pass), idRanges(na)
	return b
}
