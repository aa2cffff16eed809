package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/report"
)

// ruleFailures is one row of the report's "failures by rule": a rule of
// pec-rules §9, how often it failed and in which scenarios.
type ruleFailures struct {
	Rule, Level, Section, Title string
	Count, Expected             int
	Scenarios                   []scenarioLink
	Detail                      string // the first failure's
	// Shown are the first scenarios, More how many others (the table by
	// scenario lists them all).
	Shown []scenarioLink
	More  int
}

// shownScenarios is how many scenarios a row of the table by rule names.
const shownScenarios = 5

type scenarioLink struct{ Name, Anchor string }

// failuresByRule groups the run's failures by rule, the unexpected ones
// first, then by count.
func failuresByRule(s *Summary) []ruleFailures {
	reqs := map[string]report.Requirement{}
	for _, r := range report.Requirements() {
		reqs[r.ID] = r
	}
	by := map[string]*ruleFailures{}
	add := func(f Failure, expected bool) {
		key := f.Rule
		if key == "" {
			key = "(no rule)"
		}
		rf := by[key]
		if rf == nil {
			req := reqs[f.Rule]
			rf = &ruleFailures{Rule: key, Level: string(req.Level), Section: req.Section, Title: req.Title, Detail: f.Detail}
			by[key] = rf
		}
		rf.Count++
		if expected {
			rf.Expected++
		}
		if !slices.ContainsFunc(rf.Scenarios, func(l scenarioLink) bool { return l.Name == f.Scenario }) {
			rf.Scenarios = append(rf.Scenarios, scenarioLink{Name: f.Scenario, Anchor: "sc-" + probe.Slug(f.Scenario)})
		}
	}
	for _, f := range s.Outcome.Unexpected {
		add(f, false)
	}
	for _, f := range s.Outcome.Expected {
		add(f, true)
	}
	var out []ruleFailures
	for _, rf := range by {
		rf.Shown, rf.More = rf.Scenarios, 0
		if n := len(rf.Scenarios); n > shownScenarios {
			rf.Shown, rf.More = rf.Scenarios[:shownScenarios], n-shownScenarios
		}
		out = append(out, *rf)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Expected < a.Count) != (b.Expected < b.Count) {
			return a.Expected < a.Count
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Rule < b.Rule
	})
	return out
}

// coverageOf is the coverage table: per rule its verdicts in the run (the
// sums of the per-message and transaction tables) and the scenarios tagged
// with it that ran; covered means graded in this run, by a verdict or by a
// tagged scenario that passed or failed.
func coverageOf(s *Summary, rows []CoverageRow) (out []htmlCoverage, covered int, uncovered []string) {
	ran := map[string][2]int{} // rule → tagged scenarios that ran, passed
	for _, sc := range s.Scenarios {
		if sc.Status != "passed" && sc.Status != "failed" {
			continue
		}
		for _, t := range sc.Tags {
			c := ran[strings.TrimPrefix(t, "@")]
			c[0]++
			if sc.Status == "passed" {
				c[1]++
			}
			ran[strings.TrimPrefix(t, "@")] = c
		}
	}
	for _, row := range rows {
		c := s.Totals.Rules[row.ID]
		h := htmlCoverage{CoverageRow: row, Pass: c[report.Pass], Fail: c[report.Fail], Warn: c[report.Warn],
			NA: c[report.NA], Error: c[report.Error], Ran: ran[row.ID][0], RanPassed: ran[row.ID][1]}
		verdicts := h.Pass + h.Fail + h.Warn + h.NA + h.Error
		switch {
		case verdicts > 0 || h.Ran > 0:
			h.Status = "graded"
			covered++
		case len(row.Scenarios) > 0:
			h.Status = "not in this run"
		default:
			h.Status = "not covered"
			if row.MessageLevel && row.Level == report.Must {
				uncovered = append(uncovered, row.ID)
			}
		}
		out = append(out, h)
	}
	return out, covered, uncovered
}

// idRanges writes rule IDs compactly, one group per family, consecutive
// numbers as a range: "ACC-01–06", "GEN-01–12,14", "SIG-04" (the report
// keeps each group on one line).
func idRanges(ids []string) []string {
	fams := map[string][]int{}
	var order []string
	var odd []string
	for _, id := range ids {
		fam, num, ok := strings.Cut(id, "-")
		n, err := strconv.Atoi(num)
		if !ok || err != nil {
			odd = append(odd, id)
			continue
		}
		if _, seen := fams[fam]; !seen {
			order = append(order, fam)
		}
		fams[fam] = append(fams[fam], n)
	}
	sort.Strings(order)
	var parts []string
	for _, fam := range order {
		ns := fams[fam]
		sort.Ints(ns)
		ns = slices.Compact(ns)
		var runs []string
		for i := 0; i < len(ns); {
			j := i
			for j+1 < len(ns) && ns[j+1] == ns[j]+1 {
				j++
			}
			r := fmt.Sprintf("%02d", ns[i])
			if j > i {
				r += fmt.Sprintf("–%02d", ns[j])
			}
			runs = append(runs, r)
			i = j + 1
		}
		parts = append(parts, fam+"-"+strings.Join(runs, ","))
	}
	return append(parts, odd...)
}

// uniqueRules are the rules of fs, each once, in order.
func uniqueRules(fs []Failure) []string {
	var out []string
	for _, f := range fs {
		if r := cmp.Or(f.Rule, "(no rule)"); !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}
