package scenarios

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/report"
)

// shardDir writes a shard's outputs as a run writes them: summary.json,
// junit.xml, cucumber.json (godog's shapes, the uri with the line the shard
// selected), one evidence folder per scenario and gamma's inbox.
func shardDir(t *testing.T, root string, sh Shard, exps []Expectation, scs ...*ScenarioResult) string {
	dir := filepath.Join(root, "shard-"+sh.String()[:1])
	s := &Summary{Target: "alpha", Scenarios: scs, Shard: &sh, Expect: exps}
	s.recount()
	s.Outcome = Judge(s.Failures(), exps)
	mustWrite(t, dir, "summary.json", mustJSON(t, s))
	var cases, elements []string
	for _, sc := range scs {
		cases = append(cases, `<testcase name="`+sc.Name+`" status="`+sc.Status+`" time="0.1"></testcase>`)
		elements = append(elements, `{"name":"`+sc.Name+`","line":`+map[bool]string{true: "30", false: "10"}[strings.HasSuffix(sc.Name, "2")]+`}`)
		mustWrite(t, filepath.Join(dir, "evidence", "sc-"+sc.Name), "01-accettazione.eml", []byte("x"))
	}
	mustWrite(t, dir, "junit.xml", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="pecspec" tests="`+itoa(len(scs))+`" skipped="0" failures="0" errors="0" time="1.5">
  <testsuite name="Delivery" tests="`+itoa(len(scs))+`" skipped="0" failures="0" errors="0" time="1.5">`+strings.Join(cases, "")+`</testsuite>
</testsuites>`))
	mustWrite(t, dir, "cucumber.json", []byte(`[{"uri":"delivery.feature:`+itoa(sh.Index)+`","name":"Delivery","elements":[`+strings.Join(elements, ",")+`]}]`))
	mustWrite(t, filepath.Join(dir, "peer"), "001.eml", []byte("shard "+sh.String()))
	mustWrite(t, filepath.Join(dir, "peer"), "001.json", []byte("{}"))
	return dir
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func mustJSON(t *testing.T, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustWrite(t *testing.T, dir, name string, data []byte) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func scenarioWith(name, status string, fails ...string) *ScenarioResult {
	sc := &ScenarioResult{Name: name, Feature: "delivery.feature", Status: status}
	if len(fails) > 0 {
		sc.FailedOn = failedGrading
	}
	var vs []report.Verdict
	for _, r := range fails {
		vs = append(vs, report.Verdict{Rule: r, Status: report.Fail})
	}
	vs = append(vs, report.Verdict{Rule: "ACC-01", Status: report.Pass})
	sc.Messages = []MessageResult{{File: "evidence/sc-" + name + "/01-accettazione.eml", Kind: pec.KindAccettazione, From: "posta-certificata@pec.alpha.test", Verdicts: vs}}
	return sc
}

// TestMerge: two shards join into one run: every scenario, junit and
// cucumber entries added up, evidence kept, gamma's inbox numbered on, and
// the expectations judged over both — one that only the other shard
// matched is no longer stale.
func TestMerge(t *testing.T) {
	root := t.TempDir()
	exps := []Expectation{{Rule: "GEN-15", Reason: "known"}}
	a := shardDir(t, root, Shard{1, 2}, exps, scenarioWith("s1", "passed"))
	b := shardDir(t, root, Shard{2, 2}, exps, scenarioWith("s2", "failed", "GEN-15"))
	if s, _ := ReadSummary(a); len(s.Outcome.Stale) != 1 {
		t.Fatalf("shard 1 alone: stale %v, want the GEN-15 expectation", s.Outcome.Stale)
	}
	out := filepath.Join(root, "merged")
	s, err := Merge(out, []string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if s.Totals.Scenarios != 2 || s.Totals.Failed != 1 || len(s.Outcome.Stale) != 0 || len(s.Outcome.Expected) != 1 || !s.Outcome.Pass() || s.Shard != nil {
		t.Errorf("merged: totals %+v, outcome %+v, shard %v", s.Totals, s.Outcome, s.Shard)
	}
	for _, f := range []string{"evidence/sc-s1/01-accettazione.eml", "evidence/sc-s2/01-accettazione.eml", "peer/001.eml",
		"peer/002.eml", "peer/002.json", "report.html"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("merged: %v", err)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(out, "peer", "002.eml")); string(data) != "shard 2/2" {
		t.Errorf("peer/002.eml is %q, want the second shard's", data)
	}
	junit, _ := os.ReadFile(filepath.Join(out, "junit.xml"))
	// junit.xml is rendered from the joined summary (WriteReports): one
	// suite per feature, the expected failure skipped with its reason.
	if strings.Count(string(junit), "<testsuite ") != 1 || strings.Count(string(junit), "<testcase") != 2 ||
		!strings.Contains(string(junit), `tests="2"`) || !strings.Contains(string(junit), `<skipped message="expected failure: GEN-15 (known)"`) {
		t.Errorf("merged junit.xml:\n%s", junit)
	}
	var cuc []map[string]any
	data, _ := os.ReadFile(filepath.Join(out, "cucumber.json"))
	if err := json.Unmarshal(data, &cuc); err != nil || len(cuc) != 1 || cuc[0]["uri"] != "delivery.feature" || len(cuc[0]["elements"].([]any)) != 2 ||
		cuc[0]["elements"].([]any)[0].(map[string]any)["name"] != "s1" {
		t.Errorf("merged cucumber.json: %v %s", err, data)
	}
}

// TestMergeRefuses: a missing shard, a scenario in two inputs, two runs
// against different targets and an output that is an input are refused.
func TestMergeRefuses(t *testing.T) {
	root := t.TempDir()
	a := shardDir(t, root, Shard{1, 3}, nil, scenarioWith("s1", "passed"))
	b := shardDir(t, root, Shard{2, 3}, nil, scenarioWith("s1", "passed"))
	c := shardDir(t, filepath.Join(root, "x"), Shard{3, 3}, nil, scenarioWith("s3", "passed"))
	s, _ := ReadSummary(c)
	s.Target = "beta"
	mustWrite(t, c, "summary.json", mustJSON(t, s))
	for name, tc := range map[string]struct {
		out  string
		dirs []string
		want string
	}{
		"missing shard":   {filepath.Join(root, "m1"), []string{a}, "shard 2/3 is missing"},
		"twice":           {filepath.Join(root, "m2"), []string{a, b, c}, `"s1" is in both`},
		"other target":    {filepath.Join(root, "m3"), []string{a, b, c}, "ran against alpha"},
		"output is input": {a, []string{a, b, c}, "is one of the inputs"},
	} {
		if _, err := Merge(tc.out, tc.dirs); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", name, err, tc.want)
		}
	}
}
