package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pecspec/pecspec/scenarios"
)

var (
	faultOnce sync.Once
	faultBin  string
	faultErr  error
	faultOut  []byte
)

// faultPecref builds, once per test process, a pecref with the
// pecspecfault build tag (reference/compose/fault.go): its fault switch is
// the environment variable PECREF_FAULT.
func faultPecref(t *testing.T) string {
	t.Helper()
	faultOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pecref-fault-")
		if err != nil {
			faultErr = err
			return
		}
		faultBin = filepath.Join(dir, "pecref")
		faultOut, faultErr = exec.Command("go", "build", "-tags", "pecspecfault", "-o", faultBin, "../../cmd/pecref").CombinedOutput()
	})
	if faultErr != nil {
		t.Fatalf("build the faulty pecref: %v\n%s", faultErr, faultOut)
	}
	return faultBin
}

// TestBrokenTargetIsCaught starts the lab with a pecref built with the
// pecspecfault tag and its switch on for alpha (the target): alpha's notices
// lack X-Riferimento-Message-ID. The suite must fail naming GEN-15 and
// nothing else (DAT-12, which compares that header with the daticert msgid,
// is not judged without it: one root cause, one failure),
// pass with an --expect file that lists them, and fail again when that file also lists a
// failure that does not happen (a stale entry).
func TestBrokenTargetIsCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real lab")
	}
	dir := t.TempDir()
	bin := faultPecref(t)
	t.Setenv("PECREF_FAULT", "omit-riferimento@pec.alpha.test")
	devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	stdout := os.Stdout
	os.Stdout = devnull
	defer func() { os.Stdout = stdout }()
	expect := func(body string) string {
		p := filepath.Join(dir, "expect.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(name string, extra ...string) (int, scenarios.Summary) {
		out := filepath.Join(dir, name)
		code := cmdRun(append([]string{"--pecref", bin, "--tags", "@flow-delivery", "--out", out, "--timeout", "20s"}, extra...))
		var s scenarios.Summary
		data, err := os.ReadFile(filepath.Join(out, "summary.json"))
		if err == nil {
			err = json.Unmarshal(data, &s)
		}
		if err != nil {
			t.Fatalf("%s: summary.json: %v", name, err)
		}
		return code, s
	}

	code, sum := run("plain")
	rules := map[string]int{}
	for _, f := range sum.Outcome.Unexpected {
		rules[f.Rule]++
	}
	if code != exitFail || rules["GEN-15"] == 0 {
		t.Fatalf("broken target: exit %d, unexpected failures by rule %v; want exit 1 with GEN-15", code, rules)
	}
	for r := range rules {
		if r != "GEN-15" {
			t.Errorf("the broken target also fails %s: %+v", r, sum.Outcome.Unexpected)
		}
	}

	known := "- rule: GEN-15\n  reason: X-Riferimento-Message-ID missing, fixed in the next release\n"
	if code, sum := run("expected", "--expect", expect(known)); code != exitOK || len(sum.Outcome.Expected) == 0 {
		t.Errorf("with GEN-15 expected: exit %d, outcome %+v; want 0", code, sum.Outcome)
	}

	stale := known + "- rule: CON-02\n  reason: fixed long ago\n"
	code, sum = run("stale", "--expect", expect(stale))
	if code != exitFail || len(sum.Outcome.Stale) != 1 || sum.Outcome.Stale[0].Rule != "CON-02" {
		t.Errorf("with a stale entry: exit %d, stale %+v; want 1 and CON-02", code, sum.Outcome.Stale)
	}
}
