package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fromProvider is a scenario whose one message, sent by the service
// address of domain, fails rules.
func fromProvider(name, domain string, rules ...string) *ScenarioResult {
	sc := scenarioWith(name, "passed")
	if len(rules) > 0 {
		sc = scenarioWith(name, "failed", rules...)
	}
	sc.Messages[0].From = "posta-certificata@" + domain
	return sc
}

func testMatrix(exp map[string][]Expectation) *Matrix {
	return &Matrix{Expect: exp, Providers: []*MatrixProvider{
		{Name: "alpha", Domains: []string{"pec.alpha.test"}}, {Name: "faulty", Domains: []string{"pec.faulty.test"}}}}
}

// TestJudgeCharges: a failure is charged to the provider that sent the
// failing message and judged against its expectations only; a failed step
// is charged to no one and judged against both providers'; the cell's
// outcome and worst rule follow; an expectation nothing matched is stale.
func TestJudgeCharges(t *testing.T) {
	exp := map[string][]Expectation{"faulty": {{Rule: "GEN-15", Reason: "known"}, {Rule: "ERR-01", Reason: "cascade"}},
		"alpha": {{Rule: "CON-02", Reason: "never happens"}}}
	m := testMatrix(exp)
	step := &ScenarioResult{Name: "missing", Status: "failed", FailedRule: "ERR-01", Error: "no non-delivery notice"}
	units := []*unit{
		{kind: unitPair, sender: "alpha", receiver: "faulty", status: unitRan, summary: &Summary{Scenarios: []*ScenarioResult{
			fromProvider("ok", "pec.alpha.test"), fromProvider("pic", "pec.faulty.test", "GEN-15"), step}}},
		{kind: unitPair, sender: "faulty", receiver: "alpha", status: unitRan, summary: &Summary{Scenarios: []*ScenarioResult{
			fromProvider("acc", "pec.faulty.test", "GEN-15", "DAT-12")}}},
		{kind: unitSingle, sender: "alpha", status: unitRan, summary: &Summary{Scenarios: []*ScenarioResult{
			fromProvider("own", "pec.alpha.test", "GEN-15")}}},
		{kind: unitSingle, sender: "faulty", status: unitElsewhere},
		{kind: unitPair, sender: "alpha", receiver: "beta", status: unitUnreachable, reason: "beta: unreachable"},
	}
	outcomes := m.judge(units)
	af, fa, own := m.cell("pair", "alpha", "faulty"), m.cell("pair", "faulty", "alpha"), m.cell("single", "alpha", "")
	if af.Outcome != outcomeExpected || af.Passed != 1 || af.Expected != 2 || af.WorstRule != "ERR-01" {
		t.Errorf("alpha → faulty: %+v", af)
	}
	if fa.Outcome != outcomeFail || fa.Failed != 1 || fa.WorstRule != "DAT-12" {
		t.Errorf("faulty → alpha: %+v (DAT-12 is not expected)", fa)
	}
	if own.Outcome != outcomeFail || len(outcomes[units[2]].Unexpected) != 1 {
		t.Errorf("alpha's own GEN-15 is judged against faulty's expectations: %+v", own)
	}
	if c := m.cell("single", "faulty", ""); c.Outcome != outcomeNotRun {
		t.Errorf("another shard's unit: %+v", c)
	}
	if c := m.cell("pair", "alpha", "beta"); c.Outcome != outcomeUnreachable {
		t.Errorf("unreachable unit: %+v", c)
	}
	faulty, alpha := m.providerNamed("faulty"), m.providerNamed("alpha")
	if faulty.AsReceiver["GEN-15"] != 1 || faulty.AsSender["GEN-15"] != 1 || faulty.AsSender["DAT-12"] != 1 || alpha.Alone["GEN-15"] != 1 ||
		len(alpha.AsSender)+len(alpha.AsReceiver) != 0 {
		t.Errorf("charged: faulty %+v, alpha %+v", faulty, alpha)
	}
	if len(alpha.Stale) != 1 || alpha.Stale[0].Rule != "CON-02" || len(faulty.Stale) != 0 {
		t.Errorf("stale: alpha %v, faulty %v", alpha.Stale, faulty.Stale)
	}
	if got := outcomes[units[0]]; len(got.Expected) != 2 || len(got.Unexpected) != 0 {
		t.Errorf("alpha → faulty's own outcome: %+v", got)
	}
	m.Shard = &Shard{1, 2}
	m.judge(units)
	if len(alpha.Stale) != 0 {
		t.Errorf("a shard judges no expectation stale: %v", alpha.Stale)
	}
}

// TestWriteMatrix: matrix.html is self-contained, puts every provider on a
// row and a column and links each cell that ran to its report; junit.xml
// has one suite per unit that ran, failing the scenarios with unexpected
// failures.
func TestWriteMatrix(t *testing.T) {
	dir := t.TempDir()
	m := testMatrix(nil)
	units := []*unit{
		{kind: unitPair, sender: "alpha", receiver: "faulty", status: unitRan, summary: &Summary{Scenarios: []*ScenarioResult{
			fromProvider("pic", "pec.faulty.test", "GEN-15")}}},
		{kind: unitPair, sender: "faulty", receiver: "alpha", status: unitFailed, reason: "lab: gone"},
	}
	for u, o := range m.judge(units) {
		u.summary.Outcome = o
		mustWrite(t, filepath.Join(dir, u.unitDir()), "summary.json", mustJSON(t, u.summary))
	}
	if err := WriteMatrix(dir, m); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "matrix.html"))
	for _, want := range []string{`href="pairs/alpha/faulty/report.html"`, "✗ 1 failed", "GEN-15", "by faulty", "faulty → alpha: lab: gone"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("matrix.html lacks %q", want)
		}
	}
	if strings.Contains(string(page), "<script") || strings.Contains(string(page), "://") {
		t.Errorf("matrix.html loads or runs something")
	}
	junit, _ := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if strings.Count(string(junit), "<testsuite ") != 1 || !strings.Contains(string(junit), `<failure message="GEN-15: `) {
		t.Errorf("junit.xml:\n%s", junit)
	}
	if got, _ := ReadMatrix(dir); len(got.Cells) != 2 || got.Cells[0].Report != "pairs/alpha/faulty/report.html" {
		t.Errorf("matrix.json: %+v", got)
	}
}

// TestMergeMatrix: two shards of a matrix join into one — each shard's
// units copied, judged again (faulty's expectation, matched in one shard
// only, is not stale) — and a missing shard is refused.
func TestMergeMatrix(t *testing.T) {
	root := t.TempDir()
	exp := map[string][]Expectation{"faulty": {{Rule: "GEN-15", Reason: "known"}}}
	all := []*unit{
		{kind: unitPair, sender: "alpha", receiver: "faulty"},
		{kind: unitPair, sender: "faulty", receiver: "alpha"},
	}
	runs := map[int]*Summary{
		0: {Scenarios: []*ScenarioResult{fromProvider("pic", "pec.faulty.test", "GEN-15")}},
		1: {Scenarios: []*ScenarioResult{fromProvider("acc", "pec.alpha.test")}},
	}
	var dirs []string
	for i := range 2 {
		dir := filepath.Join(root, "shard-"+itoa(i+1))
		m := testMatrix(exp)
		m.Shard = &Shard{i + 1, 2}
		var units []*unit
		for k, u := range all {
			c := *u
			c.status = unitElsewhere
			if k == i {
				c.status, c.summary = unitRan, runs[k]
				mustWrite(t, filepath.Join(dir, c.unitDir()), "summary.json", mustJSON(t, c.summary))
			}
			units = append(units, &c)
		}
		m.judge(units)
		if err := WriteMatrix(dir, m); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	out := filepath.Join(root, "merged")
	m, err := MergeMatrix(out, dirs)
	if err != nil {
		t.Fatal(err)
	}
	af, fa := m.cell("pair", "alpha", "faulty"), m.cell("pair", "faulty", "alpha")
	if m.Shard != nil || af.Outcome != outcomeExpected || fa.Outcome != outcomePass || m.StaleCount() != 0 {
		t.Errorf("merged: shard %v, alpha → faulty %s, faulty → alpha %s, %d stale", m.Shard, af.Outcome, fa.Outcome, m.StaleCount())
	}
	for _, f := range []string{"matrix.html", "junit.xml", "pairs/alpha/faulty/report.html", "pairs/faulty/alpha/summary.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("merged: %v", err)
		}
	}
	if _, err := MergeMatrix(filepath.Join(root, "again"), dirs[:1]); err == nil || !strings.Contains(err.Error(), "shard 2/2 is missing") {
		t.Errorf("one shard of two: err %v", err)
	}
}
