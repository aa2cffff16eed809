package scenarios

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/pecspec/pecspec/features"
	"github.com/pecspec/pecspec/internal/strictyaml"
	"github.com/pecspec/pecspec/report"
)

// Expectation is one entry of an --expect file: a failure the provider knows
// about. Scenario, when set, limits it to that scenario; an entry with a
// scenario and no rule expects every failure of that scenario.
type Expectation struct {
	Rule     string `yaml:"rule,omitempty" json:"rule,omitempty"`
	Scenario string `yaml:"scenario,omitempty" json:"scenario,omitempty"`
	Reason   string `yaml:"reason" json:"reason"`
}

// Failure is one conformance failure of a run: a MUST verdict that failed,
// or a step that failed naming the rule it checks. Rule is empty for a step
// failure no rule accounts for.
type Failure struct {
	Scenario string `json:"scenario"`
	Rule     string `json:"rule"`
	Detail   string `json:"detail"`
	// Reason is the expect file's reason, for an expected failure.
	Reason string `json:"reason,omitempty"`
}

// Outcome sorts a run's failures against the expectations.
type Outcome struct {
	Expected   []Failure     `json:"expected"`
	Unexpected []Failure     `json:"unexpected"`
	Stale      []Expectation `json:"stale"` // expected failures that did not happen
	// NotRun are the entries about what the run did not exercise (a
	// scenario --tags left out, a rule no scenario that ran graded):
	// neither met nor stale.
	NotRun []Expectation `json:"not_run,omitempty"`
}

// Pass is true when every failure was expected and no expectation is stale.
func (o Outcome) Pass() bool { return len(o.Unexpected) == 0 && len(o.Stale) == 0 }

// LoadExpectations reads an --expect file: a YAML list of {rule, scenario,
// reason}. Every rule must be a rule of pec-rules §9 and every entry needs a
// reason.
func LoadExpectations(path string) ([]Expectation, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: expect file: %v", ErrHarness, err)
	}
	var exps []Expectation
	if err := strictyaml.Decode(data, &exps); err != nil {
		return nil, fmt.Errorf("%w: expect file %s: %v", ErrHarness, path, err)
	}
	known := map[string]bool{}
	for _, r := range report.Requirements() {
		known[r.ID] = true
	}
	scenarios, err := scenarioNames()
	if err != nil {
		return nil, err
	}
	var errs []error
	for i, e := range exps {
		bad := func(format string, a ...any) {
			errs = append(errs, fmt.Errorf("%w: expect file %s entry %d: "+format, append([]any{ErrHarness, path, i + 1}, a...)...))
		}
		switch {
		case e.Rule == "" && e.Scenario == "":
			bad("needs a rule, a scenario, or both")
		case e.Rule != "" && !known[e.Rule]:
			bad("%q is not a rule of pec-rules §9", e.Rule)
		}
		if e.Scenario != "" && !scenarios[e.Scenario] {
			bad("no such scenario %q (pecspec rules --coverage lists them)", e.Scenario)
		}
		if strings.TrimSpace(e.Reason) == "" {
			bad("reason is empty")
		}
	}
	return exps, errors.Join(errs...)
}

// scenarioNames are the names of the suite's scenarios (outlines expanded).
func scenarioNames() (map[string]bool, error) {
	ps, err := Pickles(features.FS)
	if err != nil {
		return nil, fmt.Errorf("%w: features: %v", ErrHarness, err)
	}
	names := map[string]bool{}
	for _, p := range ps {
		names[p.Name] = true
	}
	return names, nil
}

// Failures lists every conformance failure of the run summarised by s.
func (s *Summary) Failures() []Failure {
	var out []Failure
	add := func(sc *ScenarioResult, vs []report.Verdict) {
		for _, v := range vs {
			if failing(v) {
				out = append(out, Failure{Scenario: sc.Name, Rule: v.Rule, Detail: string(v.Status) + ": " + v.Detail})
			}
		}
	}
	for _, sc := range s.Scenarios {
		for _, m := range sc.Messages {
			add(sc, m.Verdicts)
		}
		add(sc, sc.Transaction)
		// A scenario that failed on a grading step is accounted for by the
		// rule failures above; one that failed on any other step adds that
		// failure with the rule it names. Scenarios in error (harness) or
		// skipped are no finding.
		if sc.Status == "failed" && sc.FailedOn != failedGrading {
			out = append(out, Failure{Scenario: sc.Name, Rule: sc.FailedRule, Detail: sc.Status + ": " + sc.Error})
		}
	}
	return out
}

// Judge matches failures with expectations.
func Judge(failures []Failure, exps []Expectation) Outcome {
	var o Outcome
	used := make([]bool, len(exps))
	for _, f := range failures {
		hit := false
		for i, e := range exps {
			if e.matches(f) {
				if !hit {
					f.Reason = e.Reason
				}
				used[i], hit = true, true
			}
		}
		if hit {
			o.Expected = append(o.Expected, f)
		} else {
			o.Unexpected = append(o.Unexpected, f)
		}
	}
	for i, e := range exps {
		if !used[i] {
			o.Stale = append(o.Stale, e)
		}
	}
	sort.Slice(o.Unexpected, func(i, j int) bool { return o.Unexpected[i].Scenario < o.Unexpected[j].Scenario })
	return o
}

// judge sorts the summary's failures against exps. An entry no failure
// met is stale only when what it names ran: its scenario (passed or
// failed), or, for an entry naming only a rule, a scenario that graded the
// rule (a verdict of it, or its tag). Otherwise the run says nothing about
// it: not run.
func (s *Summary) judge(exps []Expectation) Outcome {
	o := Judge(s.Failures(), exps)
	var stale []Expectation
	for _, e := range o.Stale {
		if s.exercised(e) {
			stale = append(stale, e)
		} else {
			o.NotRun = append(o.NotRun, e)
		}
	}
	o.Stale = stale
	return o
}

func (s *Summary) exercised(e Expectation) bool {
	for _, sc := range s.Scenarios {
		judged := sc.Status == "passed" || sc.Status == "failed"
		if !judged || (e.Scenario != "" && sc.Name != e.Scenario) {
			continue
		}
		if e.Rule == "" || slices.Contains(sc.Tags, "@"+e.Rule) || sc.graded(e.Rule) {
			return true
		}
	}
	return false
}

// graded reports whether a verdict of the scenario is about rule.
func (sc *ScenarioResult) graded(rule string) bool {
	for _, m := range sc.Messages {
		if slices.ContainsFunc(m.Verdicts, func(v report.Verdict) bool { return v.Rule == rule }) {
			return true
		}
	}
	return slices.ContainsFunc(sc.Transaction, func(v report.Verdict) bool { return v.Rule == rule })
}

// matches: the entry names the failure's rule (in its scenario, if it names
// one), or names only the failure's scenario.
func (e Expectation) matches(f Failure) bool {
	if e.Scenario != "" && e.Scenario != f.Scenario {
		return false
	}
	return e.Rule == "" || (f.Rule != "" && e.Rule == f.Rule)
}

// ruleError is a step failure a rule of §9 accounts for: a message the rule
// requires never came, or the target accepted what the rule says it must
// refuse. It lets --expect name the failure by rule.
type ruleError struct {
	rule string
	err  error
}

func (e *ruleError) Error() string { return e.rule + ": " + e.err.Error() }
func (e *ruleError) Unwrap() error { return e.err }

// requiredBy names, for each message a waiting step looks for (by the words
// of its failure), the rule that requires it: the one its absence breaks.
var requiredBy = map[string]string{
	"accettazione":           "ACC-09",
	"trasporto":              "TRN-01",
	"take-charge receipt":    "PIC-05",
	"delivery receipt":       "CON-02",
	"non-delivery notice":    "ERR-01",
	"non-acceptance notice":  "NAC-01",
	"12 h timeout notice":    "TIM-02",
	"24 h timeout notice":    "TIM-04",
	"anomaly envelope":       "ANO-01",
	"virus detection notice": "VIR-03",
}

// procedureRule is the scenario's APC rule tag, when it has exactly one: the
// access-point rule a missing non-accettazione or an accepted submission
// breaks.
func (w *World) procedureRule() string {
	rule := ""
	for _, t := range w.res.Tags {
		if strings.HasPrefix(t, "@APC-") {
			if rule != "" {
				return ""
			}
			rule = t[1:]
		}
	}
	return rule
}
