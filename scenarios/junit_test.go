package scenarios

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/report"
)

// outcomeSummary is a run with one scenario of each kind: passed, failed
// unexpectedly, failed as expected, in error (harness), skipped for a
// capability, waiting in real time; judged against an expect file with an
// entry met, a stale one and one whose scenario --tags left out.
func outcomeSummary() *Summary {
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	fail := func(rule string) []MessageResult {
		return []MessageResult{{Verdicts: []report.Verdict{{Rule: rule, Status: report.Fail, Detail: rule + " broken"}}}}
	}
	sc := func(name, status string) *ScenarioResult {
		return &ScenarioResult{Name: name, Feature: "delivery.feature", FeatureName: "Delivery", Status: status,
			Tags: []string{"@flow-delivery", "@GEN-15", "@DAT-12"}, Started: t0, Finished: t0.Add(1500 * time.Millisecond)}
	}
	s := &Summary{Target: "alpha", Tags: "@flow-delivery", Started: t0, Finished: t0.Add(5 * time.Second)}
	passed := sc("passes", "passed")
	unexpected := sc("fails GEN-15", "failed")
	unexpected.FailedOn, unexpected.Messages = failedGrading, fail("GEN-15")
	expected := sc("fails DAT-12", "failed")
	expected.FailedOn, expected.Messages = failedGrading, fail("DAT-12")
	harness := sc("cannot log in", "error")
	harness.Error = "harness: login refused"
	skipped := sc("needs a capability", "skipped")
	skipped.Error = "needs controllable-clock"
	waiting := sc("waits", "pending")
	waiting.Error = "waits in real time until 2026-12-03T10:00:00Z"
	s.Scenarios = []*ScenarioResult{passed, unexpected, expected, harness, skipped, waiting}
	s.Totals = Totals{Scenarios: 6, Passed: 1, Failed: 2, Errors: 1, Skipped: 1, Pending: 1}
	s.Outcome = s.judge([]Expectation{
		{Rule: "DAT-12", Reason: "fixed in 4.2"},
		{Rule: "GEN-15", Scenario: "passes", Reason: "was broken"},
		{Rule: "VIR-03", Scenario: "a virus scenario", Reason: "not selected"},
		{Rule: "VIR-03", Reason: "graded by no scenario that ran"},
	})
	return s
}

// TestJudgeNotRun: an entry whose scenario did not run, or whose rule no
// scenario that ran grades, is not run — neither met nor stale; a stale
// entry names a scenario that ran and passed.
func TestJudgeNotRun(t *testing.T) {
	o := outcomeSummary().Outcome
	if len(o.Stale) != 1 || o.Stale[0].Scenario != "passes" {
		t.Errorf("stale %+v, want the entry of the passing scenario", o.Stale)
	}
	if len(o.NotRun) != 2 || o.NotRun[0].Scenario != "a virus scenario" || o.NotRun[1].Scenario != "" {
		t.Errorf("not run %+v, want the two VIR-03 entries", o.NotRun)
	}
	if len(o.Expected) != 1 || o.Expected[0].Reason != "fixed in 4.2" || len(o.Unexpected) != 1 {
		t.Errorf("expected %+v, unexpected %+v", o.Expected, o.Unexpected)
	}
}

// TestWriteJUnit: junit.xml agrees with the exit code — a failure per
// finding (the unexpected rule, the stale entry, the waiting scenario), an
// error for the harness, skipped with the reason for the expected failure,
// the capability and the entry not run; classname is the feature.
func TestWriteJUnit(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, outcomeSummary()); err != nil {
		t.Fatal(err)
	}
	var got junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if got.Tests != 9 || got.Failures != 3 || got.Errors != 1 || got.Skipped != 4 {
		t.Errorf("tests %d failures %d errors %d skipped %d, want 9 3 1 4\n%s", got.Tests, got.Failures, got.Errors, got.Skipped, buf.String())
	}
	cases := map[string]junitCase{}
	for _, s := range got.Suites {
		for _, c := range s.Cases {
			cases[c.Name] = c
		}
	}
	for name, check := range map[string]func(c junitCase) bool{
		"passes": func(c junitCase) bool {
			return c.Failure == nil && c.Error == nil && c.Skipped == nil && c.Classname == "Delivery"
		},
		"fails GEN-15":            func(c junitCase) bool { return c.Failure != nil && c.Failure.Type == "GEN-15" },
		"fails DAT-12":            func(c junitCase) bool { return c.Skipped != nil && strings.Contains(c.Skipped.Message, "fixed in 4.2") },
		"cannot log in":           func(c junitCase) bool { return c.Error != nil && c.Error.Type == "harness" },
		"needs a capability":      func(c junitCase) bool { return c.Skipped != nil },
		"waits":                   func(c junitCase) bool { return c.Failure != nil && c.Failure.Type == "pending" },
		"stale: GEN-15 in passes": func(c junitCase) bool { return c.Failure != nil && c.Failure.Type == "stale" },
		"not run: VIR-03":         func(c junitCase) bool { return c.Skipped != nil },
	} {
		if c, ok := cases[name]; !ok || !check(c) {
			t.Errorf("test case %q: %+v", name, c)
		}
	}
	if !strings.Contains(buf.String(), `time="1.500"`) {
		t.Errorf("scenario durations missing:\n%s", buf.String())
	}
}

// TestFixCucumber: the failed step of a scenario whose failures were all
// expected becomes skipped with the reason; a stale entry is a failed
// scenario of its own.
func TestFixCucumber(t *testing.T) {
	path := filepath.Join(t.TempDir(), CucumberFile)
	godog := `[{"uri":"delivery.feature","name":"Delivery","elements":[
	 {"name":"fails DAT-12","steps":[{"name":"x","result":{"status":"passed"}},{"name":"y","result":{"status":"failed","error_message":"DAT-12"}}]},
	 {"name":"fails GEN-15","steps":[{"name":"y","result":{"status":"failed","error_message":"GEN-15"}}]}]}]`
	if err := os.WriteFile(path, []byte(godog), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := fixCucumber(path, outcomeSummary()); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	out := string(data)
	if strings.Count(out, `"status": "failed"`) != 2 || !strings.Contains(out, "expected failure (fixed in 4.2): DAT-12") ||
		!strings.Contains(out, "stale: GEN-15 in passes") {
		t.Errorf("cucumber.json:\n%s", out)
	}
}
