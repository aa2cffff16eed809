package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/scenarios"
)

// cmdRun runs `pecspec run`: against the reference it starts the lab in
// <out>/lab first and stops it at the end.
func cmdRun(args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	targetArg := fs.String("target", "reference", `"reference" (start the lab) or a target file`)
	tags := fs.String("tags", "", "godog tag expression, e.g. @flow-delivery")
	out := fs.String("out", "out", "reports directory")
	timeout := fs.Duration("timeout", 60*time.Second, "deadline of each waiting step")
	concurrency := fs.Int("concurrency", 4, "scenarios run at once")
	seed := fs.Int64("seed", 0, "scenario order seed (0: random, printed)")
	pecref := fs.String("pecref", "", "pecref binary for the reference lab")
	verbose := fs.Bool("v", false, "log lab start-up")
	expect := fs.String("expect", "", "YAML list of expected failures {rule, scenario, reason}")
	resume := fs.String("resume", "", "go on with the scenarios an earlier run left waiting in real time (its --out directory)")
	if err := fs.Parse(args); err != nil {
		return exitHarness
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var st *scenarios.ResumeState
	var previous []*scenarios.ScenarioResult
	targetFile := *targetArg
	if *resume != "" {
		var err error
		if st, err = scenarios.LoadResume(*resume); err != nil {
			return fail("%v", err)
		}
		if previous, err = previousResults(*resume); err != nil {
			return fail("%v", err)
		}
		*out, targetFile = *resume, st.Target
	} else {
		for _, sub := range []string{"evidence", "lab", "peer"} {
			if err := os.RemoveAll(filepath.Join(*out, sub)); err != nil {
				return fail("clean %s: %v", *out, err)
			}
		}
	}
	if *targetArg == "reference" && st == nil {
		start := time.Now()
		l, err := lab.Up(ctx, lab.Options{Dir: filepath.Join(*out, "lab"), Pecref: *pecref, Log: logger(*verbose)})
		if err != nil {
			return fail("lab: %v", err)
		}
		defer l.Down()
		fmt.Printf("lab up in %v (%s)\n", time.Since(start).Round(time.Millisecond), l.Dir)
		targetFile = l.TargetFile()
	}
	var exps []scenarios.Expectation
	if *expect != "" {
		var err error
		if exps, err = scenarios.LoadExpectations(*expect); err != nil {
			return fail("%v", err)
		}
	}
	target, err := probe.LoadTarget(targetFile)
	if err != nil {
		return fail("%v", err)
	}
	res, err := scenarios.Run(ctx, scenarios.Options{Target: target, Out: *out, Tags: *tags,
		Concurrency: *concurrency, Seed: *seed, StepTimeout: *timeout, Console: os.Stdout, Expect: exps,
		TargetFile: absPath(targetFile), Resume: st, Previous: previous})
	if err != nil {
		return fail("%v", err)
	}
	switch {
	case res.Scenarios == 0:
		fmt.Fprintln(os.Stderr, "pecspec: no scenario matched")
		return exitHarness
	case res.Undefined > 0:
		fmt.Fprintf(os.Stderr, "pecspec: %d scenarios have undefined steps\n", res.Undefined)
		return exitHarness
	case res.Pending > 0 && res.Outcome.Pass():
		fmt.Fprintf(os.Stderr, "pecspec: %d scenarios wait in real time until %s: then run pecspec run --resume %s\n",
			res.Pending, res.Due.Format(time.RFC3339), *out)
		return exitFail
	case !res.Outcome.Pass():
		fmt.Fprintf(os.Stderr, "pecspec: %d unexpected failures, %d stale expectations\n",
			len(res.Outcome.Unexpected), len(res.Outcome.Stale))
		return exitFail
	}
	return exitOK
}

// previousResults reads the scenarios of the summary.json an earlier run
// left in dir.
func previousResults(dir string) ([]*scenarios.ScenarioResult, error) {
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return nil, err
	}
	var s scenarios.Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s/summary.json: %w", dir, err)
	}
	return s.Scenarios, nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
