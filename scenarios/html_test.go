package scenarios

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pecspec/pecspec/features"
)

// TestFailingReport: a failing report opens with its failures, by rule
// (rule, level, section, count, scenarios) then by scenario, and the
// expectations that are stale or were not run; its verdict is the exit
// code's (ERROR: a scenario could not be judged).
func TestFailingReport(t *testing.T) {
	s := outcomeSummary()
	s.Scenarios[1].Steps = []StepResult{{Keyword: "When", Text: "alice sends a certified message", Status: "passed"},
		{Keyword: "Then", Text: "every captured message passes the MUST rules", Status: "failed"},
		{Keyword: "And", Text: "the transaction passes the MUST rules", Status: "skipped"}}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, s, features.FS); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	order := []string{`id="verdict"><span class="ERROR">ERROR</span>`, `<h2 class="first" id="failures">`, `id="by-rule"`,
		`>GEN-15</td><td>MUST</td>`, `href="#sc-fails-gen-15">fails GEN-15</a>`, `>DAT-12</td>`, `(1 expected)`,
		`id="by-scenario"`, `>cannot log in</a></td><td class="error">error</td>`, `>waits</a></td><td class="pending">`,
		`id="expectations"`, `stale: it no longer fails`, `not run in this run`, `id="flows-h"`,
		`<li class="failed"><b>Then</b> every captured message passes the MUST rules <span class="failed">(failed)</span></li>`,
		`<li class="skipped"><b>And</b> the transaction passes the MUST rules`, `id="coverage"`}
	at := 0
	for _, want := range order {
		i := strings.Index(page[at:], want)
		if i < 0 {
			t.Fatalf("report.html lacks %q after position %d", want, at)
		}
		at += i
	}
	if strings.Contains(page, `id="by-rule"`) && strings.Index(page, `id="by-rule"`) > strings.Index(page, `class="scenario"`) {
		t.Error("the failures do not open the report")
	}
}

// TestPassingReportHasNoFailures: a passing report says PASS and has no
// failures section.
func TestPassingReportHasNoFailures(t *testing.T) {
	s := outcomeSummary()
	s.Scenarios = s.Scenarios[:1]
	s.Outcome = s.judge(nil)
	s.Totals = Totals{Scenarios: 1, Passed: 1}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, s, features.FS); err != nil {
		t.Fatal(err)
	}
	if page := buf.String(); !strings.Contains(page, `<span class="PASS">PASS</span>`) || strings.Contains(page, `id="failures"`) {
		t.Errorf("a passing report: verdict or failures section wrong")
	}
}
