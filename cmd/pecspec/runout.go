package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/pecspec/pecspec/internal/version"
	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/scenarios"
)

// reportFiles are the reports of a run in out, by kind.
func reportFiles(out string) map[string]string {
	return map[string]string{
		"html":     filepath.Join(out, scenarios.ReportFile),
		"summary":  filepath.Join(out, scenarios.SummaryFile),
		"junit":    filepath.Join(out, scenarios.JUnitFile),
		"cucumber": filepath.Join(out, scenarios.CucumberFile),
		"evidence": filepath.Join(out, scenarios.EvidenceDir) + string(filepath.Separator),
	}
}

// printReports ends the console summary with where the reports are.
func printReports(w io.Writer, out string) {
	r := reportFiles(out)
	fmt.Fprintf(w, "\nreport    %s\nsummary   %s\njunit     %s\ncucumber  %s\nevidence  %s\n",
		r["html"], r["summary"], r["junit"], r["cucumber"], r["evidence"])
}

// runJSON is `pecspec run --format json`: the console summary as one
// object, for scripts (summary.json has every scenario and verdict).
type runJSON struct {
	Target       string            `json:"target"`
	ProviderName string            `json:"provider_name,omitempty"`
	Result       string            `json:"result"` // pass, fail or error
	ExitCode     int               `json:"exit_code"`
	Reason       string            `json:"reason,omitempty"`
	Selected     int               `json:"selected"`
	Scenarios    int               `json:"scenarios"`
	Passed       int               `json:"passed"`
	Failed       int               `json:"failed"`
	Errors       int               `json:"errors"`
	Skipped      int               `json:"skipped"`
	Undefined    int               `json:"undefined"`
	Pending      int               `json:"pending"`
	MustFailures int               `json:"must_failures"`
	Outcome      scenarios.Outcome `json:"outcome"`
	Reports      map[string]string `json:"reports"`
	Harness      version.Info      `json:"harness"`
}

func writeRunJSON(w io.Writer, t *probe.Target, res scenarios.Result, code int, reason, out string) error {
	result := map[int]string{exitOK: "pass", exitFail: "fail", exitHarness: "error"}[code]
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(runJSON{Target: t.Name, ProviderName: t.ProviderName, Result: result, ExitCode: code, Reason: reason,
		Selected: res.Selected, Scenarios: res.Scenarios, Passed: res.Passed, Failed: res.Failed, Errors: res.Errors,
		Skipped: res.Skipped, Undefined: res.Undefined, Pending: res.Pending, MustFailures: res.MustFailures,
		Outcome: res.Outcome, Reports: reportFiles(out), Harness: version.Read()})
}
