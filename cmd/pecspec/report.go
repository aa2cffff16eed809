package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pecspec/pecspec/scenarios"
)

const reportUsage = "usage: pecspec report merge [--out DIR] DIR..."

// cmdReport runs `pecspec report merge`: the outputs of the shards of one
// run (pecspec run --shard i/n) or of one matrix (pecspec matrix --shard
// i/n), each in its own directory, joined into one, with the exit code the
// whole run would have had.
func cmdReport(args []string) int {
	if len(args) == 0 || args[0] != "merge" {
		return fail(reportUsage)
	}
	fs := flag.NewFlagSet("report merge", flag.ContinueOnError)
	out := fs.String("out", "merged", "directory of the joined reports")
	if err := fs.Parse(args[1:]); err != nil {
		return exitHarness
	}
	dirs := fs.Args()
	if len(dirs) == 0 {
		return fail(reportUsage)
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
	return exitCode(mergedResult(s), *out)
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
