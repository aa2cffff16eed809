package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pecspec/pecspec/reference/lab/labtest"
)

// TestExpectOutcomes runs the index flow on the real lab with an expect
// file whose first entry names a scenario --tags left out (not run: the
// run passes on it) and whose second names a rule of a selected scenario
// that passes (stale: exit 1, a failing test case in junit.xml, the not-run
// entry a skipped one); an entry naming no scenario is refused before the
// lab starts.
func TestExpectOutcomes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real lab")
	}
	dir := t.TempDir()
	expect := filepath.Join(dir, "expect.yaml")
	write := func(body string) {
		if err := os.WriteFile(expect, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("- scenario: A certified message between two users of the target\n  reason: not selected by --tags\n")
	out := filepath.Join(dir, "not,run") // a comma in --out: godog's own format list splits at commas
	args := []string{"--pecref", labtest.Pecref(t), "--tags", "@flow-index", "--expect", expect}
	code, stdout, console := dispatchOut(t, append([]string{"run", "--format", "json", "--out", out}, args...)...)
	sum := readSummary(t, out)
	if cj, err := os.ReadFile(filepath.Join(out, "cucumber.json")); err != nil || !strings.Contains(string(cj), `"keyword": "Scenario"`) {
		t.Errorf("cucumber.json under an --out with a comma: %v\n%.200s", err, cj)
	}
	if code != exitOK || len(sum.Outcome.NotRun) != 1 || len(sum.Outcome.Stale) != 0 || !strings.Contains(console, "not run") {
		t.Fatalf("an entry about a scenario not selected: exit %d, outcome %+v\n%s", code, sum.Outcome, console)
	}
	// --format json: standard output is one JSON object, the progress
	// went to standard error.
	var js runJSON
	if err := json.Unmarshal([]byte(stdout), &js); err != nil || js.Result != "pass" || js.ExitCode != exitOK ||
		js.Scenarios != 2 || len(js.Outcome.NotRun) != 1 || js.Reports["html"] != filepath.Join(out, "report.html") {
		t.Errorf("run --format json: %v, %+v\n%s", err, js, stdout)
	}
	if !strings.Contains(console, "[2/2] PASSED") {
		t.Errorf("no progress on standard error:\n%s", console)
	}

	write("- scenario: A certified message between two users of the target\n  reason: not selected by --tags\n" +
		"- rule: IDX-01\n  scenario: The target's record in the index is well formed\n  reason: fixed since\n")
	out = filepath.Join(dir, "stale")
	code, console = runCmd(t, cmdRun, append(args, "--out", out)...)
	if sum := readSummary(t, out); code != exitFail || len(sum.Outcome.Stale) != 1 || len(sum.Outcome.NotRun) != 1 {
		t.Fatalf("a stale entry: exit %d, outcome %+v\n%s", code, sum.Outcome, console)
	}
	data, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var junit struct {
		Failures int `xml:"failures,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &junit); err != nil {
		t.Fatal(err)
	}
	stale, notRun := false, false
	for _, s := range junit.Suites {
		for _, c := range s.Cases {
			stale = stale || (strings.HasPrefix(c.Name, "stale: IDX-01") && c.Failure != nil)
			notRun = notRun || (strings.HasPrefix(c.Name, "not run: ") && c.Skipped != nil)
		}
	}
	if junit.Failures != 1 || !stale || !notRun {
		t.Errorf("junit.xml of a run with a stale entry: %d failures, stale case %v, not-run case %v\n%s", junit.Failures, stale, notRun, data)
	}

	write("- scenario: A certified message between two users of the targte\n  reason: misspelt\n")
	out = filepath.Join(dir, "misspelt")
	code, console = runCmd(t, cmdRun, append(args, "--out", out)...)
	if code != exitHarness || !strings.Contains(console, `no such scenario "A certified message between two users of the targte"`) {
		t.Errorf("a misspelt scenario: exit %d\n%s", code, console)
	}
	if _, err := os.Stat(filepath.Join(out, "lab")); err == nil {
		t.Error("the lab started before the expect file was refused")
	}
}
