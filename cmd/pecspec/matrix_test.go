package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/reference/lab/labtest"
	"github.com/pecspec/pecspec/scenarios"
)

// faultRules are the rules a pecref built with the fault switch breaks: its
// notices lack X-Riferimento-Message-ID (GEN-15), which DAT-12 ties to the
// daticert msgid.
var faultRules = []string{"GEN-15"}

// TestMatrix4x4 runs the interoperability matrix of issue 18 on this
// machine: the reference instances alpha and beta, delta — a black-box
// pecref enrolled in the lab and configured from its DIR/put/delta/ alone —
// and faulty, another black box built with the fault switch on. Every
// ordered pair and every provider's own scenarios run; faulty's row and
// column show its rules and nothing else (all expected through its
// --expect file), every other cell passes, and every cell links to a
// report that exists. Then the same matrix in three shards, merged, gives
// the same verdicts (on a few flows: the shards cost as much as the whole);
// and with delta stopped, its row and column are unreachable, exit 2 names
// it, and the other pairs still run. PECSPEC_MATRIX_OUT=DIR keeps the whole
// matrix's reports in DIR.
func TestMatrix4x4(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real lab and two providers under test")
	}
	l, boxes, dir := matrixLab(t)
	expect := filepath.Join(dir, "faulty-known.yaml")
	var body strings.Builder
	for _, r := range faultRules {
		fmt.Fprintf(&body, "- rule: %s\n  reason: the faulty build omits X-Riferimento-Message-ID\n", r)
	}
	writeFile(t, expect, []byte(body.String()))
	args := []string{"--lab", l.Dir, "--expect", "faulty=" + expect, "--timeout", "30s"}

	out := filepath.Join(dir, "whole")
	if keep := os.Getenv("PECSPEC_MATRIX_OUT"); keep != "" {
		out = keep // to look at matrix.html after the test
		_ = os.RemoveAll(out)
	}
	start := time.Now()
	code, console := runCmd(t, cmdMatrix, append(args, "--out", out)...)
	t.Logf("4×4 matrix: exit %d in %v", code, time.Since(start).Round(time.Millisecond))
	m := readMatrix(t, out)
	checkFaultyConfined(t, m, "faulty", true)
	checkLinks(t, out, m)
	if code != exitOK {
		t.Fatalf("matrix: exit %d, want 0 (every failure expected)\n%s", code, console)
	}

	const flows = "@flow-non-delivery,@flow-virus,@flow-same-domain"
	var shards []string
	for i := 1; i <= 3; i++ {
		shard := filepath.Join(dir, fmt.Sprintf("shard-%d", i))
		code, console := runCmd(t, cmdMatrix, append(args, "--out", shard, "--shard", fmt.Sprintf("%d/3", i), "--tags", flows)...)
		if code != exitOK {
			t.Fatalf("matrix shard %d/3: exit %d\n%s", i, code, console)
		}
		shards = append(shards, shard)
	}
	merged := filepath.Join(dir, "merged")
	if code, console := runCmd(t, cmdReport, append([]string{"merge", "--out", merged}, shards...)...); code != exitOK {
		t.Fatalf("report merge of the matrix shards: exit %d\n%s", code, console)
	}
	mm := readMatrix(t, merged)
	checkFaultyConfined(t, mm, "faulty", false)
	checkLinks(t, merged, mm)
	sameVerdicts(t, matrixVerdicts(t, out, m, flows), matrixVerdicts(t, merged, mm, ""))

	boxes["delta"].proc.Stop(5 * time.Second)
	code, console = runCmd(t, cmdMatrix, append(args, "--out", filepath.Join(dir, "delta-down"), "--tags", "@flow-non-delivery")...)
	down := readMatrix(t, filepath.Join(dir, "delta-down"))
	checkUnreachable(t, down, "delta")
	if code != exitHarness || !strings.Contains(console, "delta unreachable") {
		t.Errorf("delta down: exit %d, want 2 naming delta\n%s", code, console)
	}
}

// matrixLab starts the lab with delta and faulty enrolled and both black
// boxes running; it returns the lab, the boxes and a directory for the
// outputs.
func matrixLab(t *testing.T) (*lab.Lab, map[string]*blackBox, string) {
	delta := newBlackBoxAs(t, bbSpec{"delta", "pec.delta.test", "127.0.0.11"})
	faulty := newBlackBoxAs(t, bbSpec{"faulty", "pec.faulty.test", "127.0.0.12"})
	l := labtest.UpAt(t, lab.Options{Enrols: []string{delta.file, faulty.file}, Ports: labtest.FreeBase}, func(base int) {
		delta.writeEnrolment(t, base+2)
		faulty.writeEnrolment(t, base+2)
	})
	delta.start(t, labtest.Pecref(t), delta.configure(t, filepath.Join(l.Dir, "put", "delta")))
	faulty.start(t, faultPecref(t), faulty.configure(t, filepath.Join(l.Dir, "put", "faulty")),
		"PECREF_FAULT=omit-riferimento@"+faulty.domain)
	return l, map[string]*blackBox{"delta": delta, "faulty": faulty}, t.TempDir()
}

func readMatrix(t *testing.T, dir string) *scenarios.Matrix {
	t.Helper()
	m, err := scenarios.ReadMatrix(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkFaultyConfined: every pair cell with the faulty provider fails only
// on its rules, charged to it and expected; every other cell passes; the
// per-provider summary charges the rules to the faulty one alone.
func checkFaultyConfined(t *testing.T, m *scenarios.Matrix, faulty string, all bool) {
	t.Helper()
	if len(m.Providers) != 4 || len(m.Cells) != 4*3+2*4 {
		t.Fatalf("%d providers, %d cells; want 4 and 20", len(m.Providers), len(m.Cells))
	}
	seen := map[string]bool{}
	for _, c := range m.Cells {
		involved := c.Sender == faulty || c.Receiver == faulty
		if c.Status != "ran" || (all && c.Scenarios == 0) || c.Errors > 0 || c.Failed > 0 || c.Skipped > 0 {
			t.Errorf("%s → %s (%s): %+v", c.Sender, c.Receiver, c.Kind, c)
		}
		for _, r := range c.Rules {
			if !involved || r.By != faulty || !slices.Contains(faultRules, r.Rule) || r.Expected != r.Failures {
				t.Errorf("%s → %s (%s) fails %s ×%d (%d expected) charged to %q", c.Sender, c.Receiver, c.Kind, r.Rule, r.Failures, r.Expected, r.By)
			}
			seen[c.Kind+" "+r.Rule] = true
		}
		if involved && c.Kind == "pair" && (c.Outcome != "expected" || !slices.Contains(faultRules, c.WorstRule)) {
			t.Errorf("%s → %s: outcome %s, worst rule %q; want expected, one of %v", c.Sender, c.Receiver, c.Outcome, c.WorstRule, faultRules)
		}
		if !involved && c.Outcome != "pass" && (all || c.Outcome != "empty") {
			t.Errorf("%s → %s (%s): outcome %s, want pass", c.Sender, c.Receiver, c.Kind, c.Outcome)
		}
	}
	if !seen["pair GEN-15"] {
		t.Errorf("no pair cell shows GEN-15: the faulty provider went unnoticed")
	}
	for _, p := range m.Providers {
		charged := len(p.AsSender) + len(p.AsReceiver) + len(p.Alone)
		if (p.Name == faulty) != (charged > 0) || len(p.Stale) > 0 {
			t.Errorf("%s: as sender %v, as receiver %v, alone %v, stale %v", p.Name, p.AsSender, p.AsReceiver, p.Alone, p.Stale)
		}
		if p.Name == faulty && (p.AsSender["GEN-15"] == 0 || p.AsReceiver["GEN-15"] == 0) {
			t.Errorf("%s: GEN-15 as sender ×%d, as receiver ×%d; want both", p.Name, p.AsSender["GEN-15"], p.AsReceiver["GEN-15"])
		}
	}
}

// checkUnreachable: every unit of the provider is unreachable and names
// why, every other unit ran.
func checkUnreachable(t *testing.T, m *scenarios.Matrix, name string) {
	t.Helper()
	for _, p := range m.Providers {
		if (p.Name == name) != (p.Unreachable != "") {
			t.Errorf("%s: unreachable %q", p.Name, p.Unreachable)
		}
	}
	for _, c := range m.Cells {
		involved := c.Sender == name || c.Receiver == name
		if involved != (c.Outcome == "unreachable") || (!involved && c.Status != "ran") || (involved && !strings.Contains(c.Reason, name)) {
			t.Errorf("%s → %s (%s): %s %s %q", c.Sender, c.Receiver, c.Kind, c.Status, c.Outcome, c.Reason)
		}
	}
}

var hrefRE = regexp.MustCompile(`href="([^"]+)"`)

// checkLinks: matrix.html links every cell that ran to its report, and
// every link of the page leads to an existing file; the page loads nothing
// and runs nothing.
func checkLinks(t *testing.T, dir string, m *scenarios.Matrix) {
	t.Helper()
	page, err := os.ReadFile(filepath.Join(dir, "matrix.html"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(page), "<script") || strings.Contains(string(page), "src=") || strings.Contains(string(page), "://") {
		t.Errorf("matrix.html is not self-contained")
	}
	links := map[string]bool{}
	for _, h := range hrefRE.FindAllStringSubmatch(string(page), -1) {
		links[h[1]] = true
		if _, err := os.Stat(filepath.Join(dir, h[1])); err != nil {
			t.Errorf("matrix.html links to %s: %v", h[1], err)
		}
	}
	for _, c := range m.Cells {
		if c.Status == "ran" && !links[c.Report] {
			t.Errorf("matrix.html has no link to %s", c.Report)
		}
	}
	var junit struct {
		Suites []struct {
			Name  string     `xml:"name,attr"`
			Cases []struct{} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	readXML(t, filepath.Join(dir, "junit.xml"), &junit)
	if len(junit.Suites) != len(m.Cells) {
		t.Errorf("junit.xml: %d suites for %d units", len(junit.Suites), len(m.Cells))
	}
}

// verdict is one graded verdict of a run: (unit, scenario, message kind,
// rule, status); a failed step is kind "step".
type verdict struct{ unit, scenario, kind, rule, status string }

// matrixVerdicts are every verdict of every unit of a matrix's output, of
// the scenarios the tag expression selects.
func matrixVerdicts(t *testing.T, dir string, m *scenarios.Matrix, tags string) map[verdict]bool {
	out := map[verdict]bool{}
	for _, c := range m.Cells {
		for v := range runVerdicts(t, filepath.Join(dir, c.Dir), tags) {
			v.unit = c.Dir
			out[v] = true
		}
	}
	return out
}

// runVerdicts are the verdicts of a run's summary.json, of the scenarios the
// tag expression selects.
func runVerdicts(t *testing.T, dir, tags string) map[verdict]bool {
	s := readSummary(t, dir)
	out := map[verdict]bool{}
	for _, sc := range s.Scenarios {
		if !scenarios.MatchTags(tags, sc.Tags) {
			continue
		}
		for _, msg := range sc.Messages {
			for _, v := range msg.Verdicts {
				out[verdict{"", sc.Name, string(msg.Kind), v.Rule, string(v.Status)}] = true
			}
		}
		for _, v := range sc.Transaction {
			out[verdict{"", sc.Name, "transaction", v.Rule, string(v.Status)}] = true
		}
		out[verdict{"", sc.Name, "scenario", sc.FailedRule, sc.Status}] = true
	}
	return out
}

// sameVerdicts reports the verdicts one set has and the other lacks.
func sameVerdicts(t *testing.T, whole, merged map[verdict]bool) {
	t.Helper()
	var missing, extra []string
	for v := range whole {
		if !merged[v] {
			missing = append(missing, fmt.Sprint(v))
		}
	}
	for v := range merged {
		if !whole[v] {
			extra = append(extra, fmt.Sprint(v))
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing)+len(extra) > 0 || len(whole) == 0 {
		t.Errorf("%d verdicts: %d only unsharded, %d only in the merged shards\nonly unsharded: %s\nonly merged: %s",
			len(whole), len(missing), len(extra), strings.Join(first(missing, 20), "\n  "), strings.Join(first(extra, 20), "\n  "))
	}
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

func readXML(t *testing.T, file string, v any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err == nil {
		err = xml.Unmarshal(data, v)
	}
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}
