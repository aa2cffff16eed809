package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pecspec/pecspec/report"
)

func TestJudge(t *testing.T) {
	fails := []Failure{
		{Scenario: "a", Rule: "GEN-15", Detail: "missing"},
		{Scenario: "b", Rule: "GEN-15", Detail: "missing"},
		{Scenario: "c", Rule: "PIC-05", Detail: "no presa in carico"},
		{Scenario: "d", Rule: "", Detail: "failed: harness"},
	}
	o := Judge(fails, []Expectation{
		{Rule: "GEN-15", Reason: "known"},
		{Rule: "PIC-05", Scenario: "other", Reason: "wrong scenario"},
		{Rule: "CON-02", Reason: "fixed since"},
	})
	if len(o.Expected) != 2 || len(o.Unexpected) != 2 || len(o.Stale) != 2 || o.Pass() {
		t.Fatalf("outcome %+v", o)
	}
	if o.Unexpected[0].Rule != "PIC-05" || o.Unexpected[1].Rule != "" {
		t.Errorf("unexpected %+v", o.Unexpected)
	}
	if o := Judge(fails[:2], []Expectation{{Rule: "GEN-15", Reason: "known"}}); !o.Pass() {
		t.Errorf("only expected failures: %+v, want pass", o)
	}
	if o := Judge(nil, nil); !o.Pass() {
		t.Errorf("no failure, no expectation: %+v", o)
	}
	// A scenario-only entry expects every failure of that scenario, and is
	// stale when the scenario no longer fails.
	o = Judge(fails, []Expectation{{Scenario: "c", Reason: "known"}, {Scenario: "a", Reason: "known"}, {Scenario: "e", Reason: "gone"}})
	if len(o.Expected) != 2 || len(o.Unexpected) != 2 || len(o.Stale) != 1 || o.Stale[0].Scenario != "e" {
		t.Errorf("scenario-only entries: %+v", o)
	}
}

func TestLoadExpectations(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "expect.yaml")
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const sc = "The sender asks for a breve delivery receipt"
	exps, err := LoadExpectations(write("- rule: GEN-15\n  scenario: " + sc + "\n  reason: fixed in 2.3\n- rule: APC-01\n  reason: r\n" +
		"- scenario: " + sc + "\n  reason: the whole scenario fails\n"))
	if err != nil || len(exps) != 3 || exps[0].Scenario != sc || exps[2].Rule != "" {
		t.Fatalf("exps %+v, err %v", exps, err)
	}
	for bad, want := range map[string]string{
		"- rule: XYZ-01\n  reason: r\n":                   "not a rule",
		"- rule: GEN-15\n":                                "reason is empty",
		"- rule: GEN-15\n  reason: r\n  extra: 1\n":       "extra",
		"rule: GEN-15":                                    "a mapping where a list is expected",
		"- reason: r\n":                                   "needs a rule, a scenario",
		"- rule: GEN-15\n  scenario: Nope\n  reason: r\n": `no such scenario "Nope"`,
	} {
		if _, err := LoadExpectations(write(bad)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want one containing %q", bad, err, want)
		}
	}
	if _, err := LoadExpectations(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "expect file") {
		t.Errorf("missing file: %v", err)
	}
}

// TestFailuresKeepStepFailures: a scenario that failed on a waiting or
// checking step keeps that failure even when one of its messages also failed
// a (perhaps expected) rule; one that failed on a grading step is accounted
// for by its verdicts; an error verdict counts as a failure.
func TestFailuresKeepStepFailures(t *testing.T) {
	failed := []report.Verdict{{Rule: "GEN-15", Status: report.Fail}}
	s := &Summary{Scenarios: []*ScenarioResult{
		{Name: "step", Status: "failed", Error: "the delivery receipt is of type breve",
			Messages: []MessageResult{{Verdicts: failed}}},
		{Name: "grading", Status: "failed", FailedOn: "grading", Messages: []MessageResult{{Verdicts: failed}}},
		{Name: "error", Status: "passed", Messages: []MessageResult{{Verdicts: []report.Verdict{{Rule: "SIG-04", Status: report.Error}}}}},
		{Name: "waiting", Status: "pending"},
	}}
	got := map[string]int{}
	for _, f := range s.Failures() {
		got[f.Scenario+"/"+f.Rule]++
	}
	want := map[string]int{"step/GEN-15": 1, "step/": 1, "grading/GEN-15": 1, "error/SIG-04": 1}
	if len(got) != len(want) {
		t.Fatalf("failures %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("failures %v, want %v", got, want)
		}
	}
	o := Judge(s.Failures(), []Expectation{{Rule: "GEN-15", Reason: "known"}, {Rule: "SIG-04", Reason: "known"}})
	if o.Pass() || len(o.Unexpected) != 1 || o.Unexpected[0].Scenario != "step" {
		t.Errorf("an expected rule hid a step failure: %+v", o)
	}
}
