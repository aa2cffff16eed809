package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	exps, err := LoadExpectations(write("- rule: GEN-15\n  scenario: x\n  reason: fixed in 2.3\n- rule: APC-01\n  reason: r\n"))
	if err != nil || len(exps) != 2 || exps[0].Scenario != "x" {
		t.Fatalf("exps %+v, err %v", exps, err)
	}
	for _, bad := range []string{"- rule: XYZ-01\n  reason: r\n", "- rule: GEN-15\n", "- rule: GEN-15\n  reason: r\n  extra: 1\n", "rule: GEN-15"} {
		if _, err := LoadExpectations(write(bad)); err == nil {
			t.Errorf("%q loaded without error", bad)
		}
	}
	if _, err := LoadExpectations(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "expect file") {
		t.Errorf("missing file: %v", err)
	}
}
