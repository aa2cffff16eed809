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

// runFlags are the flags of `pecspec run`.
type runFlags struct {
	target, labDir, tags, out, pecref, expect, resume string
	shard                                             scenarios.Shard
	timeout, answer                                   time.Duration
	concurrency                                       int
	seed                                              int64
	verbose, noPreflight, targetSet                   bool
}

func parseRun(args []string) (*runFlags, error) {
	f := &runFlags{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&f.target, "target", "reference", `"reference" (start the lab) or a target file`)
	fs.StringVar(&f.labDir, "lab", "", "a running lab (pecspec lab up --enrol): counterpart, gamma and external come from it")
	fs.StringVar(&f.tags, "tags", "", "godog tag expression, e.g. @flow-delivery")
	fs.StringVar(&f.out, "out", "out", "reports directory")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "deadline of each waiting step")
	fs.DurationVar(&f.answer, "answer-timeout", probe.DefaultAnswerTimeout, "deadline of each exchange with an endpoint (connection, TLS, greeting, login, reply)")
	fs.IntVar(&f.concurrency, "concurrency", 6, "scenarios run at once")
	fs.Int64Var(&f.seed, "seed", 0, "scenario order seed (0: random, printed)")
	fs.StringVar(&f.pecref, "pecref", "", "pecref binary for the reference lab")
	fs.BoolVar(&f.verbose, "v", false, "log lab start-up")
	fs.StringVar(&f.expect, "expect", "", "YAML list of expected failures {rule, scenario, reason}")
	fs.StringVar(&f.resume, "resume", "", "go on with the scenarios an earlier run left waiting in real time (its --out directory)")
	fs.BoolVar(&f.noPreflight, "no-preflight", false, "skip the checks of every endpoint before the first scenario")
	shard := fs.String("shard", "", "run only part i of n of the selected scenarios (i/n); join the parts with pecspec report merge")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	if f.shard, err = scenarios.ParseShard(*shard); err != nil {
		return nil, err
	}
	if f.shard.Sharded() && f.resume != "" {
		return nil, fmt.Errorf("--shard and --resume: a resumed run goes on with the scenarios its shard left waiting; give --resume alone")
	}
	fs.Visit(func(fl *flag.Flag) { f.targetSet = f.targetSet || fl.Name == "target" })
	if f.labDir != "" && f.targetSet && f.target == "reference" {
		return nil, fmt.Errorf("--lab runs against the lab's enrolled provider: give --target its file, or no --target")
	}
	return f, nil
}

// cmdRun runs `pecspec run`: against the reference it starts the lab in
// <out>/lab first and stops it at the end; with --lab it runs against the
// provider under test that lab enrolled.
func cmdRun(args []string) int {
	f, err := parseRun(args)
	if err != nil {
		if err == flag.ErrHelp {
			return exitHarness
		}
		return fail("%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var exps []scenarios.Expectation
	if f.expect != "" {
		if exps, err = scenarios.LoadExpectations(f.expect); err != nil {
			return fail("%v", err)
		}
	}
	var st *scenarios.ResumeState
	var previous []*scenarios.ScenarioResult
	if f.resume != "" {
		if st, err = scenarios.LoadResume(f.resume); err != nil {
			return fail("%v", err)
		}
		if previous, err = previousResults(f.resume); err != nil {
			return fail("%v", err)
		}
		f.out, f.target, f.labDir, f.targetSet = f.resume, st.Target, st.Lab, true
	} else {
		for _, sub := range []string{"evidence", "lab", "peer"} {
			if err := os.RemoveAll(filepath.Join(f.out, sub)); err != nil {
				return fail("clean %s: %v", f.out, err)
			}
		}
	}
	targetFile := f.target
	if f.target == "reference" && f.labDir == "" && st == nil {
		start := time.Now()
		l, err := lab.Up(ctx, lab.Options{Dir: filepath.Join(f.out, "lab"), Pecref: f.pecref, Log: logger(f.verbose)})
		if err != nil {
			return fail("lab: %v", err)
		}
		defer l.Down()
		fmt.Printf("lab up in %v (%s)\n", time.Since(start).Round(time.Millisecond), l.Dir)
		targetFile = l.TargetFile()
	}
	target, targetFile, err := loadTarget(f, targetFile)
	if err != nil {
		return fail("%v", err)
	}
	res, err := scenarios.Run(ctx, scenarios.Options{Target: target, Out: f.out, Tags: f.tags,
		Concurrency: f.concurrency, Seed: f.seed, StepTimeout: f.timeout, AnswerTimeout: f.answer,
		Console: os.Stdout, Expect: exps, TargetFile: absPath(targetFile), LabDir: absPathOrEmpty(f.labDir),
		Resume: st, Previous: previous, SkipPreflight: f.noPreflight, Shard: f.shard})
	if err != nil {
		return fail("%v", err)
	}
	if f.shard.Sharded() {
		res.Outcome = shardOutcome(res.Outcome)
		if res.Scenarios == 0 {
			fmt.Printf("pecspec: shard %s has no scenario to run\n", f.shard)
			return exitOK
		}
	}
	return exitCode(res, f.out)
}

// shardOutcome leaves out of a shard's verdict the expectations it did not
// match: another shard may match them, and `pecspec report merge` judges
// them over the whole run.
func shardOutcome(o scenarios.Outcome) scenarios.Outcome {
	if n := len(o.Stale); n > 0 {
		fmt.Fprintf(os.Stderr, "pecspec: %d expectations not matched in this shard: judged by pecspec report merge\n", n)
	}
	o.Stale = nil
	return o
}

// loadTarget reads the target file; with --lab, the file of a provider
// under test completed by the lab that enrolled it (or, without --target,
// the target file the lab wrote for it).
func loadTarget(f *runFlags, file string) (*probe.Target, string, error) {
	if f.labDir == "" {
		t, err := probe.LoadTarget(file)
		return t, file, err
	}
	if !f.targetSet {
		labFile, err := labPUTFile(f.labDir, lab.PUTTarget)
		if err != nil {
			return nil, "", err
		}
		t, err := probe.LoadTarget(labFile)
		return t, labFile, err
	}
	t, err := loadEnrolled(f.labDir, file)
	return t, file, err
}

// loadEnrolled reads the target file of a provider under test the lab in
// labDir enrolled, completed by the target file the lab wrote for it.
func loadEnrolled(labDir, file string) (*probe.Target, error) {
	t, err := probe.LoadTarget(file)
	if err != nil {
		return nil, err
	}
	labFile, err := labPUTFile(labDir, t.Name)
	if err != nil {
		return nil, err
	}
	labTarget, err := probe.LoadTarget(labFile)
	if err != nil {
		return nil, err
	}
	if err := t.UseLab(labTarget); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return t, nil
}

// labPUTFile is the target file a running lab wrote for the provider under
// test called name (lab.PUTTarget: the only one it enrolled).
func labPUTFile(labDir, name string) (string, error) {
	if _, ok := lab.Running(labDir); !ok {
		return "", fmt.Errorf("no lab runs in %s: start one with pecspec lab up --enrol FILE --dir %s", labDir, labDir)
	}
	file := filepath.Join(labDir, "target-"+name+".yaml")
	if _, err := os.Stat(file); err == nil {
		return file, nil
	}
	enrolled, _ := filepath.Glob(filepath.Join(labDir, "put", "*", "lab.yaml"))
	switch {
	case name == lab.PUTTarget && len(enrolled) > 1:
		return "", fmt.Errorf("the lab in %s enrolled several providers under test: give --target the enrolment file of one", labDir)
	case name != lab.PUTTarget:
		return "", fmt.Errorf("the lab in %s did not enrol %s: restart it with pecspec lab up --enrol FILE --dir %s", labDir, name, labDir)
	}
	return "", fmt.Errorf("the lab in %s enrolled no provider under test: restart it with pecspec lab up --enrol FILE --dir %s", labDir, labDir)
}

// exitCode: harness errors (exit 2) before conformance (exit 1).
func exitCode(res scenarios.Result, out string) int {
	switch {
	case res.Scenarios == 0:
		fmt.Fprintln(os.Stderr, "pecspec: no scenario matched")
		return exitHarness
	case res.Undefined > 0:
		fmt.Fprintf(os.Stderr, "pecspec: %d scenarios have undefined steps\n", res.Undefined)
		return exitHarness
	case res.Errors > 0:
		fmt.Fprintf(os.Stderr, "pecspec: %d scenarios could not be judged (harness errors, not findings); first: %s\n",
			res.Errors, res.FirstError)
		return exitHarness
	case res.Pending > 0 && res.Outcome.Pass():
		fmt.Fprintf(os.Stderr, "pecspec: %d scenarios wait in real time until %s: then run pecspec run --resume %s\n",
			res.Pending, res.Due.Format(time.RFC3339), out)
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

func absPathOrEmpty(p string) string {
	if p == "" {
		return ""
	}
	return absPath(p)
}
