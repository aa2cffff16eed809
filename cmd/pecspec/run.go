package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/scenarios"
)

const runUsage = `usage: pecspec run [flags]

Run the Gherkin suite (features/) against a target provider and grade every
message it emits against the rule catalogue (pecspec rules). With --target
reference (the default) the reference lab is started in OUT/lab for the run
and stopped at the end; with a target file the suite drives that provider
through its public endpoints, and --lab DIR names the running lab (pecspec
lab up --enrol) that supplies the counterpart, gamma and the external domain.
Every endpoint is checked before the first scenario (a setup problem is one
line, exit 2). A line per scenario as it ends ([17/41] on a terminal), then a
table by flow and by rule family and the paths of the reports.

flags:
  --target reference|FILE  the provider under test: the reference lab (default)
                           or a target file (docs/testing-your-provider.md)
  --lab DIR                the running lab a provider under test was enrolled in
  --tags EXPR              the scenarios to run, a godog tag expression:
                           @flow-delivery, "@flow-virus,@flow-anomaly" (or),
                           "@flow-delivery && ~@exclusive" (and, not)
  --expect FILE            known failures, a YAML list of {rule, scenario,
                           reason}: they do not fail the run; an entry that no
                           longer fails (stale) does; one whose scenario --tags
                           left out is "not run"
  --out DIR                reports directory (default out): report.html,
                           summary.json, junit.xml, cucumber.json, evidence/
  --format text|json       the console summary: text (default), or one JSON
                           object on standard output (progress on standard error)
  --concurrency N          scenarios at once (default 6, at least 1)
  --seed N                 scenario order (default: random, printed)
  --timeout D              deadline of each waiting step (default 60s)
  --answer-timeout D       deadline of each exchange with an endpoint: connection,
                           TLS, greeting, login, each reply (default 10s)
  --resume DIR             go on with the scenarios an earlier run (its --out)
                           left waiting in real time
  --no-preflight           skip the checks of every endpoint before the first scenario
  --shard I/N              run only part I of N of the selected scenarios, dealt
                           deterministically; join the parts with pecspec report
                           merge (docs/scaling.md)
  --pecref PATH            pecref binary for the reference lab (default: next to
                           pecspec, then $PATH)
  -v                       log the lab's start-up

exit codes:
  0  every scenario passed (failures the --expect file lists are allowed)
  1  a conformance finding: an unexpected failure (its rule of pec-rules §9 is
     named), a stale expectation, or scenarios waiting in real time (--resume)
  2  a harness error: bad flags or files, an endpoint unreachable or
     misconfigured, a scenario the harness could not judge, or the run
     interrupted (SIGINT, SIGTERM, a closed standard output: the reports of
     the scenarios that ended are written, the lab is stopped)

examples:
  pecspec run
  pecspec run --tags @flow-delivery --out out/delivery
  pecspec run --target put.yaml --lab .lab --expect known.yaml --format json
  pecspec run --shard 2/3 --out out/shard-2
`

// runFlags are the flags of `pecspec run`.
type runFlags struct {
	target, labDir, tags, out, pecref, expect, resume, format, shardSpec string
	shard                                                                scenarios.Shard
	timeout, answer                                                      time.Duration
	concurrency                                                          int
	seed                                                                 int64
	verbose, noPreflight, targetSet                                      bool
}

func runFlagSet(f *runFlags) *flag.FlagSet {
	fs := newFlagSet("run")
	fs.StringVar(&f.target, "target", "reference", "")
	fs.StringVar(&f.labDir, "lab", "", "")
	fs.StringVar(&f.tags, "tags", "", "")
	fs.StringVar(&f.out, "out", "out", "")
	fs.StringVar(&f.format, "format", "text", "")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "")
	fs.DurationVar(&f.answer, "answer-timeout", probe.DefaultAnswerTimeout, "")
	fs.IntVar(&f.concurrency, "concurrency", 6, "")
	fs.Int64Var(&f.seed, "seed", 0, "")
	fs.StringVar(&f.pecref, "pecref", "", "")
	fs.BoolVar(&f.verbose, "v", false, "")
	fs.StringVar(&f.expect, "expect", "", "")
	fs.StringVar(&f.resume, "resume", "", "")
	fs.BoolVar(&f.noPreflight, "no-preflight", false, "")
	fs.StringVar(&f.shardSpec, "shard", "", "")
	return fs
}

func parseRun(args []string) (*runFlags, error) {
	f := &runFlags{}
	fs := runFlagSet(f)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	if f.shard, err = scenarios.ParseShard(f.shardSpec); err != nil {
		return nil, err
	}
	if f.shard.Sharded() && f.resume != "" {
		return nil, fmt.Errorf("--shard and --resume: a resumed run goes on with the scenarios its shard left waiting; give --resume alone")
	}
	fs.Visit(func(fl *flag.Flag) { f.targetSet = f.targetSet || fl.Name == "target" })
	switch {
	case len(rest) > 0:
		return nil, fmt.Errorf("unexpected argument %q: run takes flags only (the provider is --target FILE)", rest[0])
	case f.concurrency < 1:
		return nil, fmt.Errorf("--concurrency %d: at least 1 scenario at a time", f.concurrency)
	case f.timeout <= 0 || f.answer <= 0:
		return nil, fmt.Errorf("--timeout and --answer-timeout must be positive durations")
	case f.format != "text" && f.format != "json":
		return nil, fmt.Errorf("unknown format %q (text or json)", f.format)
	case f.labDir != "" && f.targetSet && f.target == "reference":
		return nil, fmt.Errorf("--lab runs against the lab's enrolled provider: give --target its file, or no --target")
	}
	return f, nil
}

// cmdRun runs `pecspec run`: against the reference it starts the lab in
// <out>/lab first and stops it at the end; with --lab it runs against the
// provider under test that lab enrolled. Everything that can be checked
// before the lab starts (flags, the expect file) is.
func cmdRun(args []string) int {
	f, err := parseRun(args)
	if err != nil {
		return usageError("run", err)
	}
	ctx, stop := interruptible()
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
	console, live := os.Stdout, isTerminal(os.Stdout)
	if f.format == "json" {
		console, live = os.Stderr, isTerminal(os.Stderr)
	}
	targetFile := f.target
	if f.target == "reference" && f.labDir == "" && st == nil {
		start := time.Now()
		l, err := lab.Up(ctx, lab.Options{Dir: filepath.Join(f.out, "lab"), Pecref: f.pecref, Log: logger(f.verbose)})
		if err != nil {
			return failInterrupted(ctx, "lab: %v", err)
		}
		defer l.Down()
		fmt.Fprintf(console, "lab up in %v (%s)\n", time.Since(start).Round(time.Millisecond), l.Dir)
		targetFile = l.TargetFile()
	}
	target, targetFile, err := loadTarget(f, targetFile)
	if err != nil {
		return fail("%v", err)
	}
	res, err := scenarios.Run(ctx, scenarios.Options{Target: target, Out: f.out, Tags: f.tags,
		Concurrency: f.concurrency, Seed: f.seed, StepTimeout: f.timeout, AnswerTimeout: f.answer,
		Console: console, Live: live, Expect: exps, TargetFile: absPath(targetFile), LabDir: absPathOrEmpty(f.labDir),
		Resume: st, Previous: previous, SkipPreflight: f.noPreflight, Shard: f.shard})
	if err != nil {
		return failInterrupted(ctx, "%v", err)
	}
	if f.shard.Sharded() {
		res.Outcome = shardOutcome(res.Outcome)
		if res.Scenarios == 0 && res.Interrupted == nil {
			fmt.Fprintf(console, "pecspec: shard %s has no scenario to run\n", f.shard)
			return exitOK
		}
	}
	code, reason := exitCode(res, f.out)
	printReports(console, f.out)
	if reason != "" {
		fmt.Fprintf(os.Stderr, "pecspec: %s\n", reason)
	}
	if f.format == "json" {
		if err := writeRunJSON(os.Stdout, target, res, code, reason, f.out); err != nil {
			return fail("%v", err)
		}
	}
	return code
}

// failInterrupted is fail, unless the run was interrupted: then that is
// the reason (a lab start or a preflight cut short says nothing else).
func failInterrupted(ctx context.Context, format string, a ...any) int {
	if cause := interrupted(ctx); cause != nil {
		return fail("%v before the first scenario", cause)
	}
	return fail(format, a...)
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

// exitCode: an interruption, then harness errors (exit 2), before
// conformance (exit 1); the reason is the one line that says why.
func exitCode(res scenarios.Result, out string) (int, string) {
	switch {
	case res.Interrupted != nil:
		return exitHarness, fmt.Sprintf("%v: %d of %d scenarios ended; the reports in %s cover them", res.Interrupted,
			res.Scenarios, res.Selected, out)
	case res.Scenarios == 0:
		return exitHarness, "no scenario matched"
	case res.Undefined > 0:
		return exitHarness, fmt.Sprintf("%d scenarios have undefined steps", res.Undefined)
	case res.Errors > 0:
		return exitHarness, fmt.Sprintf("%d scenarios could not be judged (harness errors, not findings); first: %s",
			res.Errors, oneLine(errors.New(res.FirstError)))
	case res.Pending > 0 && res.Outcome.Pass():
		return exitFail, fmt.Sprintf("%d scenarios wait in real time until %s: then run pecspec run --resume %s",
			res.Pending, res.Due.Format(time.RFC3339), out)
	case !res.Outcome.Pass():
		return exitFail, fmt.Sprintf("%d unexpected failures, %d stale expectations", len(res.Outcome.Unexpected), len(res.Outcome.Stale))
	}
	return exitOK, ""
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
