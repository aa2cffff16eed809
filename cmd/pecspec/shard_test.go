package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/pecspec/pecspec/reference/lab/labtest"
)

// TestShardedRun: the full suite in three shards (pecspec run --shard i/3),
// joined by pecspec report merge, gives the same verdicts — (scenario,
// message kind, rule, status) — as the suite run whole, on the same lab;
// every scenario runs in exactly one shard; the joined junit.xml,
// cucumber.json and evidence hold every scenario once.
func TestShardedRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real lab")
	}
	l := labtest.Up(t)
	dir := t.TempDir()
	run := func(name string, extra ...string) string {
		out := filepath.Join(dir, name)
		code, console := runCLI(t, append([]string{"--target", l.TargetFile(), "--out", out, "--timeout", "30s", "--seed", "7"}, extra...)...)
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s", name, code, console)
		}
		return out
	}
	whole := run("whole")
	var shards []string
	total := 0
	for i := 1; i <= 3; i++ {
		out := run(fmt.Sprintf("shard-%d", i), "--shard", fmt.Sprintf("%d/3", i))
		s := readSummary(t, out)
		if s.Shard == nil || s.Shard.Index != i || s.Totals.Scenarios == 0 {
			t.Errorf("shard %d/3: %+v, %d scenarios", i, s.Shard, s.Totals.Scenarios)
		}
		total += s.Totals.Scenarios
		shards = append(shards, out)
	}
	merged := filepath.Join(dir, "merged")
	if code, console := runCmd(t, cmdReport, append([]string{"merge", "--out", merged}, shards...)...); code != exitOK {
		t.Fatalf("report merge: exit %d\n%s", code, console)
	}
	ws, ms := readSummary(t, whole), readSummary(t, merged)
	if total != ws.Totals.Scenarios || ms.Totals.Scenarios != ws.Totals.Scenarios || ms.Totals.Passed != ws.Totals.Passed {
		t.Errorf("scenarios: whole %d (%d passed), shards %d, merged %d (%d passed)", ws.Totals.Scenarios, ws.Totals.Passed,
			total, ms.Totals.Scenarios, ms.Totals.Passed)
	}
	sameVerdicts(t, runVerdicts(t, whole, ""), runVerdicts(t, merged, ""))
	if w, m := junitCases(t, whole), junitCases(t, merged); w != m || w != ws.Totals.Scenarios {
		t.Errorf("junit.xml test cases: whole %d, merged %d, scenarios %d", w, m, ws.Totals.Scenarios)
	}
	if w, m := cucumberScenarios(t, whole), cucumberScenarios(t, merged); w != m {
		t.Errorf("cucumber.json scenarios: whole %d, merged %d", w, m)
	}
	we, _ := filepath.Glob(filepath.Join(whole, "evidence", "*"))
	me, _ := filepath.Glob(filepath.Join(merged, "evidence", "*"))
	if len(we) != len(me) {
		t.Errorf("evidence folders: whole %d, merged %d", len(we), len(me))
	}
	if _, err := os.Stat(filepath.Join(merged, "report.html")); err != nil {
		t.Error(err)
	}
}

func junitCases(t *testing.T, dir string) int {
	var j struct {
		Suites []struct {
			Cases []struct{} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	readXML(t, filepath.Join(dir, "junit.xml"), &j)
	n := 0
	for _, s := range j.Suites {
		n += len(s.Cases)
	}
	return n
}

func cucumberScenarios(t *testing.T, dir string) int {
	var features []struct {
		Elements []struct{} `json:"elements"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "cucumber.json"))
	if err == nil {
		err = json.Unmarshal(data, &features)
	}
	if err != nil {
		t.Fatalf("%s/cucumber.json: %v", dir, err)
	}
	n := 0
	for _, f := range features {
		n += len(f.Elements)
	}
	return n
}
