package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pecspec/pecspec/scenarios"
)

const reportUsage = `usage: pecspec report merge [--out DIR] DIR...

Join the outputs of the shards of one run (pecspec run --shard I/N) or of one
matrix (pecspec matrix --shard I/N), each in its own directory, into one:
summary.json, report.html, junit.xml and cucumber.json (or matrix.html,
matrix.json and junit.xml), the evidence folders kept and gamma's captures
renumbered. Every shard must be there, no scenario twice; the expectations
are judged again over the whole (one no shard met is stale only then).

flags:
  --out DIR   directory of the joined reports (default merged); not one of DIR

exit codes:
  0  the joined run passed
  1  a conformance finding or a stale expectation in the joined run
  2  a harness error: a shard missing, inputs of different runs, a scenario
     twice, unreadable files

examples:
  pecspec report merge --out out out-1 out-2 out-3
`

// cmdReport runs `pecspec report merge`: the outputs of the shards of one
// run (pecspec run --shard i/n) or of one matrix (pecspec matrix --shard
// i/n), each in its own directory, joined into one, with the exit code the
// whole run would have had.
func cmdReport(args []string) int {
	if len(args) == 0 || args[0] != "merge" {
		return usageError("report", fmt.Errorf("the only action is merge: pecspec report merge [--out DIR] DIR..."))
	}
	fs := newFlagSet("report merge")
	out := fs.String("out", "merged", "")
	dirs, err := parseFlags(fs, args[1:])
	if err != nil {
		return usageError("report merge", err)
	}
	if len(dirs) == 0 {
		return usageError("report merge", fmt.Errorf("no directory to merge"))
	}
	matrices := 0
	for _, d := range dirs {
		if scenarios.IsMatrix(d) {
			matrices++
		}
	}
	switch {
	case matrices == len(dirs):
		m, err := scenarios.MergeMatrix(*out, dirs)
		if err != nil {
			return fail("%v", err)
		}
		m.PrintTable(os.Stdout)
		return matrixExit(m, scenarios.Shard{}, filepath.Join(*out, "matrix.html"))
	case matrices > 0:
		return fail("report merge: %d of the %d directories hold a matrix: merge the shards of one run or of one matrix", matrices, len(dirs))
	}
	s, err := scenarios.Merge(*out, dirs)
	if err != nil {
		return fail("%v", err)
	}
	fmt.Printf("merged %d directories into %s: %d scenarios, %d passed, %d failed, %d in error, %d skipped\n",
		len(dirs), *out, s.Totals.Scenarios, s.Totals.Passed, s.Totals.Failed, s.Totals.Errors, s.Totals.Skipped)
	code, reason := exitCode(mergedResult(s), *out)
	if reason != "" {
		fmt.Fprintf(os.Stderr, "pecspec: %s\n", reason)
	}
	return code
}

// mergedResult is the joined summary as the result of one run.
func mergedResult(s *scenarios.Summary) scenarios.Result {
	t := s.Totals
	res := scenarios.Result{Scenarios: t.Scenarios, Passed: t.Passed, Failed: t.Failed, Undefined: t.Undefined,
		Pending: t.Pending, Skipped: t.Skipped, Errors: t.Errors, MustFailures: t.MustFailures, Outcome: s.Outcome}
	for _, sc := range s.Scenarios {
		if sc.Status == "error" && res.FirstError == "" {
			res.FirstError = sc.Name + ": " + sc.Error
		}
	}
	return res
}
